"""One FilterSet for setups, shared by the API (the seed's query parameters) and the staff list."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from session_setup.choices import SetupSessionType, SetupStatus
from session_setup.models import SessionSetup


class SessionSetupFilterSet(django_filters.FilterSet):
    academic_session = django_filters.UUIDFilter(field_name="academic_session_id")
    exam_session = django_filters.UUIDFilter(field_name="exam_session_id")
    session_type = django_filters.ChoiceFilter(choices=SetupSessionType.choices)
    status = django_filters.ChoiceFilter(choices=SetupStatus.choices)

    class Meta:
        model = SessionSetup
        fields = ["academic_session", "exam_session", "session_type", "status"]


def search_q(term: str) -> Q:
    term = (term or "").strip()[:100]
    if not term:
        return Q()
    return (Q(academic_session__name__icontains=term) | Q(exam_session__name__icontains=term)
            | Q(school__name__icontains=term))
