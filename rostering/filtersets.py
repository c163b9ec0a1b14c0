"""One FilterSet per roster model, shared by the native API and the staff pages."""

import django_filters
from django.db.models import Q

from rostering.choices import EnrollmentRole, PersonRole, SessionState, SessionType
from rostering.models import (
    AcademicSession,
    ClassDivision,
    Enrollment,
    GradeLevel,
    Person,
    School,
    Subject,
)


class _SearchMixin(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search")
    search_fields: tuple[str, ...] = ("name",)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        q = Q()
        for term in value.split():
            term_q = Q()
            for field in self.search_fields:
                term_q |= Q(**{f"{field}__icontains": term})
            q &= term_q
        return queryset.filter(q)


class SchoolFilterSet(_SearchMixin):
    search_fields = ("name", "code")

    class Meta:
        model = School
        fields = ["code"]


class AcademicSessionFilterSet(_SearchMixin):
    type = django_filters.ChoiceFilter(choices=SessionType.choices)
    state = django_filters.ChoiceFilter(choices=SessionState.choices)
    school_id = django_filters.UUIDFilter(field_name="school_id")
    parent_id = django_filters.UUIDFilter(field_name="parent_id")
    starts_after = django_filters.DateFilter(field_name="start_date", lookup_expr="gte")
    ends_before = django_filters.DateFilter(field_name="end_date", lookup_expr="lte")

    class Meta:
        model = AcademicSession
        fields = ["type", "state", "school_id", "parent_id"]


class GradeLevelFilterSet(_SearchMixin):
    search_fields = ("name", "code")
    school_id = django_filters.UUIDFilter(field_name="school_id")

    class Meta:
        model = GradeLevel
        fields = ["code", "school_id"]


class SubjectFilterSet(_SearchMixin):
    search_fields = ("name", "code")

    class Meta:
        model = Subject
        fields = ["code"]


class ClassDivisionFilterSet(_SearchMixin):
    school_id = django_filters.UUIDFilter(field_name="school_id")
    grade_level_id = django_filters.UUIDFilter(field_name="grade_level_id")
    academic_session_id = django_filters.UUIDFilter(field_name="academic_session_id")

    class Meta:
        model = ClassDivision
        fields = ["school_id", "grade_level_id", "academic_session_id"]


class PersonFilterSet(_SearchMixin):
    """Search by name, number, email or any identifier value; filter by role, school, grade, class."""

    search_fields = ("given_name", "family_name", "middle_name", "sis_id", "email")
    role = django_filters.ChoiceFilter(choices=PersonRole.choices)
    school_id = django_filters.UUIDFilter(field_name="school_id")
    grade_level_id = django_filters.UUIDFilter(field_name="grade_level_id")
    class_division_id = django_filters.UUIDFilter(method="filter_class_division", label="Class division")

    class Meta:
        model = Person
        fields = ["role", "school_id", "grade_level_id", "sis_id"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        q = Q()
        for term in value.split():
            q &= (
                Q(given_name__icontains=term)
                | Q(family_name__icontains=term)
                | Q(middle_name__icontains=term)
                | Q(sis_id__iexact=term)
                | Q(email__iexact=term)
                | Q(identifiers__icontains=term)
            )
        return queryset.filter(q)

    def filter_class_division(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(enrollments__class_division_id=value).distinct()


class EnrollmentFilterSet(django_filters.FilterSet):
    person_id = django_filters.UUIDFilter(field_name="person_id")
    class_division_id = django_filters.UUIDFilter(field_name="class_division_id")
    school_id = django_filters.UUIDFilter(field_name="class_division__school_id")
    subject_id = django_filters.UUIDFilter(field_name="subject_id")
    academic_session_id = django_filters.UUIDFilter(field_name="academic_session_id")
    role = django_filters.ChoiceFilter(choices=EnrollmentRole.choices)

    class Meta:
        model = Enrollment
        fields = ["person_id", "class_division_id", "school_id", "subject_id", "academic_session_id", "role"]
