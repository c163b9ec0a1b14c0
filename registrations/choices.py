from django.db import models


class RegistrationMode(models.TextChoices):
    TEACHER_SELF_REGISTRATION = "teacher_self_registration", "Teacher self-registration"
    STUDENT_INTAKE = "student_intake", "Student intake"
    STUDENT_VERIFICATION = "student_verification", "Student verification"


class SessionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    PAUSED = "paused", "Paused"
    CLOSED = "closed", "Closed"
    ARCHIVED = "archived", "Archived"


# The seed's lifecycle: open from draft or paused; pause from open; close from open or paused; archive from closed.
SESSION_TRANSITIONS: dict[str, frozenset[str]] = {
    SessionStatus.DRAFT: frozenset({SessionStatus.OPEN}),
    SessionStatus.OPEN: frozenset({SessionStatus.PAUSED, SessionStatus.CLOSED}),
    SessionStatus.PAUSED: frozenset({SessionStatus.OPEN, SessionStatus.CLOSED}),
    SessionStatus.CLOSED: frozenset({SessionStatus.ARCHIVED}),
    SessionStatus.ARCHIVED: frozenset(),
}

# What staff may edit in each status ("Limited" in the seed = these fields). mode and school never change.
EDITABLE_WHEN_LIVE = frozenset(
    {"title", "description", "starts_at", "ends_at", "expected_count", "required_fields", "approval_policy"}
)
IMMUTABLE_FIELDS = frozenset({"mode", "school"})


class RosterPolicy(models.TextChoices):
    PRELOADED_ONLY = "preloaded_only", "Pre-loaded roster only"
    OPEN_WITH_CODE = "open_with_code", "Open intake with a code"
    MIXED = "mixed", "Mixed (assigned and open codes)"


class CodeFormat(models.TextChoices):
    SECURE = "secure", "Secure (10 characters, recommended)"
    HUMAN_READABLE_6 = "human_readable_6_digit", "Short, 6 characters (easier to guess)"
    HUMAN_READABLE_4 = "human_readable_4_digit", "Very short, 4 characters (easy to guess)"


CODE_FORMAT_LENGTH = {
    CodeFormat.SECURE: 10,
    CodeFormat.HUMAN_READABLE_6: 6,
    CodeFormat.HUMAN_READABLE_4: 4,
}
SHORT_CODE_WARNING = (
    "Short codes are quick to type but can be guessed: with 4 characters there are about a million "
    "codes, with 6 about a billion. Use them only for short sessions with few codes, and close the "
    "session when you are done."
)


class CodeStatus(models.TextChoices):
    """Mirrors the participant's journey, for the progress counters."""

    UNUSED = "unused", "Unused"
    STARTED = "started", "Started"
    SUBMITTED = "submitted", "Submitted"
    NEEDS_CORRECTION = "needs_correction", "Needs correction"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    IMPORTED = "imported", "Imported"


class SubmissionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    NEEDS_CORRECTION = "needs_correction", "Needs correction"
    RESUBMITTED = "resubmitted", "Resubmitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    IMPORTED = "imported", "Imported"
    CANCELLED = "cancelled", "Cancelled"


SUBMISSION_TRANSITIONS: dict[str, frozenset[str]] = {
    SubmissionStatus.DRAFT: frozenset({SubmissionStatus.SUBMITTED, SubmissionStatus.CANCELLED}),
    SubmissionStatus.SUBMITTED: frozenset(
        {SubmissionStatus.NEEDS_CORRECTION, SubmissionStatus.APPROVED, SubmissionStatus.REJECTED,
         SubmissionStatus.CANCELLED}
    ),
    SubmissionStatus.NEEDS_CORRECTION: frozenset({SubmissionStatus.RESUBMITTED, SubmissionStatus.CANCELLED}),
    SubmissionStatus.RESUBMITTED: frozenset(
        {SubmissionStatus.NEEDS_CORRECTION, SubmissionStatus.APPROVED, SubmissionStatus.REJECTED,
         SubmissionStatus.CANCELLED}
    ),
    SubmissionStatus.APPROVED: frozenset({SubmissionStatus.IMPORTED}),
    SubmissionStatus.REJECTED: frozenset(),
    SubmissionStatus.IMPORTED: frozenset(),
    SubmissionStatus.CANCELLED: frozenset(),
}

# The access code's own lifecycle: it follows its submission's (CODE_STATUS_FOR_SUBMISSION).
CODE_TRANSITIONS: dict[str, frozenset[str]] = {
    CodeStatus.UNUSED: frozenset({CodeStatus.STARTED}),
    CodeStatus.STARTED: frozenset({CodeStatus.SUBMITTED, CodeStatus.UNUSED}),
    CodeStatus.SUBMITTED: frozenset(
        {CodeStatus.NEEDS_CORRECTION, CodeStatus.APPROVED, CodeStatus.REJECTED, CodeStatus.UNUSED}
    ),
    CodeStatus.NEEDS_CORRECTION: frozenset({CodeStatus.SUBMITTED, CodeStatus.UNUSED}),
    CodeStatus.APPROVED: frozenset({CodeStatus.IMPORTED}),
    CodeStatus.REJECTED: frozenset(),
    CodeStatus.IMPORTED: frozenset(),
}

# The access code's status follows its submission's.
CODE_STATUS_FOR_SUBMISSION = {
    SubmissionStatus.DRAFT: CodeStatus.STARTED,
    SubmissionStatus.SUBMITTED: CodeStatus.SUBMITTED,
    SubmissionStatus.RESUBMITTED: CodeStatus.SUBMITTED,
    SubmissionStatus.NEEDS_CORRECTION: CodeStatus.NEEDS_CORRECTION,
    SubmissionStatus.APPROVED: CodeStatus.APPROVED,
    SubmissionStatus.REJECTED: CodeStatus.REJECTED,
    SubmissionStatus.IMPORTED: CodeStatus.IMPORTED,
    SubmissionStatus.CANCELLED: CodeStatus.UNUSED,
}


class PersonType(models.TextChoices):
    TEACHER = "teacher", "Teacher"
    STUDENT = "student", "Student"


def person_type_for_mode(mode: str) -> str:
    return PersonType.TEACHER if mode == RegistrationMode.TEACHER_SELF_REGISTRATION else PersonType.STUDENT


class GenerationStatus(models.TextChoices):
    """A background code generation (batches above ``CODE_GENERATION_TASK_THRESHOLD``)."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


GENERATION_TRANSITIONS: dict[str, frozenset[str]] = {
    GenerationStatus.QUEUED: frozenset({GenerationStatus.RUNNING, GenerationStatus.FAILED}),
    GenerationStatus.RUNNING: frozenset({GenerationStatus.COMPLETED, GenerationStatus.FAILED}),
    GenerationStatus.COMPLETED: frozenset(),
    GenerationStatus.FAILED: frozenset(),
}
