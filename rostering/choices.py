from django.db import models


class SessionType(models.TextChoices):
    """Edlink `SessionType`."""

    SCHOOL_YEAR = "school_year", "School year"
    SEMESTER = "semester", "Semester"
    TERM = "term", "Term"
    GRADING_PERIOD = "grading_period", "Grading period"


class SessionState(models.TextChoices):
    """Edlink `SessionState`."""

    UPCOMING = "upcoming", "Upcoming"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"


class GradeLevelCode(models.TextChoices):
    """CEDS / OneRoster grade codes (Edlink `GradeLevel`)."""

    IT = "IT", "Infant/toddler"
    PR = "PR", "Preschool"
    PK = "PK", "Prekindergarten"
    TK = "TK", "Transitional kindergarten"
    KG = "KG", "Kindergarten"
    G01 = "01", "First grade"
    G02 = "02", "Second grade"
    G03 = "03", "Third grade"
    G04 = "04", "Fourth grade"
    G05 = "05", "Fifth grade"
    G06 = "06", "Sixth grade"
    G07 = "07", "Seventh grade"
    G08 = "08", "Eighth grade"
    G09 = "09", "Ninth grade"
    G10 = "10", "Tenth grade"
    G11 = "11", "Eleventh grade"
    G12 = "12", "Twelfth grade"
    G13 = "13", "Grade 13"
    PS = "PS", "Postsecondary"
    UG = "UG", "Ungraded"
    OTHER = "Other", "Other"


class PersonRole(models.TextChoices):
    STUDENT = "student", "Student"
    TEACHER = "teacher", "Teacher"
    GUARDIAN = "guardian", "Guardian"
    ADMINISTRATOR = "administrator", "Administrator"
    STAFF = "staff", "Staff"


class Gender(models.TextChoices):
    """Edlink `Gender`."""

    MALE = "male", "Male"
    FEMALE = "female", "Female"
    OTHER = "other", "Other"


class EnrollmentRole(models.TextChoices):
    STUDENT = "student", "Student"
    TEACHER = "teacher", "Teacher"
    TA = "ta", "Teaching assistant"
    AIDE = "aide", "Aide"


class MembershipRole(models.TextChoices):
    """Staff roles (DESIGN.md, Tenancy and permissions)."""

    DISTRICT_ADMIN = "district_admin", "District admin"
    SCHOOL_ADMIN = "school_admin", "School admin"
    REGISTRAR = "registrar", "Registrar"
    CLASS_TEACHER = "class_teacher", "Class teacher"
    VIEWER = "viewer", "Viewer"
