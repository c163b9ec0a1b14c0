"""One FilterSet per model, used by the selectors and so by the staff pages and the API alike.

The filters have one name each (snake_case, the selectors' ``filters`` keys); the pages' query strings
(``q``, ``batch`` …) and the API's camelCase parameters (``search``, ``printBatchId`` …) are parsed by their
forms and serializers into these names, and the meaning of every value is decided here only.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils import timezone

from registrations.choices import CodeStatus, PersonType, RegistrationMode, SessionStatus, SubmissionStatus
from registrations.codes import normalize_code
from registrations.models import AccessCode, RegistrationSession, Submission

AWAITING_REVIEW = "awaiting_review"
REVIEWABLE = (SubmissionStatus.SUBMITTED, SubmissionStatus.RESUBMITTED)
# The access-code status filter: a participant status (among live codes), or one of these.
CODE_LIVE, CODE_REVOKED, CODE_EXPIRED = "live", "revoked", "expired"
CODE_STATUS_CHOICES = [
    (CODE_LIVE, "Live (not revoked)"),
    *CodeStatus.choices,
    (CODE_EXPIRED, "Expired (not used in time)"),
    (CODE_REVOKED, "Revoked"),
]
SUBMISSION_STATUS_CHOICES = [(AWAITING_REVIEW, "Awaiting review"), *SubmissionStatus.choices]


def _filter(queryset, filterset_class, filters: dict | None):
    """Apply a FilterSet to ``queryset`` (values already parsed by a form or serializer; empty ones ignored)."""
    data = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    filterset = filterset_class(data, queryset=queryset)
    if not filterset.is_valid():  # parsed upstream: a value the FilterSet still refuses matches nothing
        return queryset.none()
    return filterset.qs


class RegistrationSessionFilterSet(django_filters.FilterSet):
    mode = django_filters.ChoiceFilter(choices=RegistrationMode.choices)
    status = django_filters.ChoiceFilter(choices=SessionStatus.choices)
    school_id = django_filters.UUIDFilter(field_name="school_id")
    search = django_filters.CharFilter(method="filter_search", label="Title or school")

    class Meta:
        model = RegistrationSession
        fields = ["mode", "status", "school_id"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(title__icontains=value) | Q(school__name__icontains=value)) if value else queryset

    @classmethod
    def apply(cls, queryset, filters):
        return _filter(queryset, cls, filters)


class AccessCodeFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CODE_STATUS_CHOICES, method="filter_status")
    print_batch = django_filters.UUIDFilter(field_name="print_batch")
    search = django_filters.CharFilter(method="filter_search", label="Code, name or number")

    class Meta:
        model = AccessCode
        fields = ["print_batch"]

    def filter_status(self, queryset, name, value):
        if value == CODE_REVOKED:
            return queryset.filter(revoked_at__isnull=False)
        if value == CODE_LIVE:
            return queryset.filter(revoked_at__isnull=True)
        if value == CODE_EXPIRED:
            return queryset.filter(
                revoked_at__isnull=True, expires_at__lte=timezone.now(),
                status__in=[CodeStatus.UNUSED, CodeStatus.STARTED],
            )
        return queryset.filter(status=value, revoked_at__isnull=True)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        match = Q(display_name_hint__icontains=value) | Q(number_hint__icontains=value)
        code = normalize_code(value)
        if code:
            match |= Q(code__contains=code)  # codes are stored normalised: upper case, no dashes
        return queryset.filter(match)

    @classmethod
    def apply(cls, queryset, filters):
        return _filter(queryset, cls, filters)


class SubmissionFilterSet(django_filters.FilterSet):
    session_id = django_filters.UUIDFilter(field_name="session_id")
    status = django_filters.ChoiceFilter(choices=SUBMISSION_STATUS_CHOICES, method="filter_status")
    person_type = django_filters.ChoiceFilter(choices=PersonType.choices)
    class_division_id = django_filters.UUIDFilter(field_name="class_division_id")
    search = django_filters.CharFilter(method="filter_search", label="Name, code or number")

    class Meta:
        model = Submission
        fields = ["session_id", "person_type", "class_division_id"]

    def filter_status(self, queryset, name, value):
        if value == AWAITING_REVIEW:
            return queryset.filter(status__in=REVIEWABLE)
        return queryset.filter(status=value)

    def filter_search(self, queryset, name, value):
        """Every word must match a name part, the code, or the student/teacher number."""
        q = Q()
        for word in value.split()[:6]:
            code = normalize_code(word)
            word_q = (
                Q(payload__given_name__icontains=word)
                | Q(payload__middle_name__icontains=word)
                | Q(payload__family_name__icontains=word)
                | Q(payload__student_number__iexact=word)
                | Q(payload__teacher_number__iexact=word)
            )
            if code:
                word_q |= Q(access_code__code__contains=code)
            q &= word_q
        return queryset.filter(q)

    @classmethod
    def apply(cls, queryset, filters):
        return _filter(queryset, cls, filters)
