"""The seed's ``SessionSetup`` shape, field for field (snake_case, the seed's order)."""

from __future__ import annotations

from rest_framework import serializers

from assessments.models import ExamSession
from rostering.common.fields import ScopedRelatedIdField
from rostering.models import AcademicSession
from session_setup.api.schema import SessionTypeField
from session_setup.choices import SetupStatus
from session_setup.models import INT32_MAX, INT32_MIN, SessionSetup


class SessionSetupSerializer(serializers.ModelSerializer):
    """Auto-populate created_by from request.user when available."""

    session_type = SessionTypeField()
    academic_session = ScopedRelatedIdField(queryset=AcademicSession.objects.all(), allow_null=True, required=False)
    exam_session = ScopedRelatedIdField(queryset=ExamSession.objects.all(), allow_null=True, required=False)
    # No default: a PUT that leaves status out keeps it (and derives it from current_step), never resets it.
    status = serializers.ChoiceField(choices=SetupStatus.choices, required=False)
    current_step = serializers.IntegerField(min_value=INT32_MIN, max_value=INT32_MAX, required=False)

    class Meta:
        model = SessionSetup
        fields = [
            "session_type", "id", "academic_session", "exam_session", "status", "current_step", "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # "One unfinished setup per session" is checked by the service (a 409 naming the first), not here.
        validators: list = []
