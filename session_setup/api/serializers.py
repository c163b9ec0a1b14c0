"""The seed's ``SessionSetup`` shape, field for field (snake_case, the seed's order)."""

from __future__ import annotations

from rest_framework import serializers

from assessments.models import ExamSession
from rostering.models import AcademicSession
from session_setup.api.schema import SessionTypeField
from session_setup.choices import SetupStatus
from session_setup.models import INT32_MAX, INT32_MIN, SessionSetup


class ScopedSessionIdField(serializers.PrimaryKeyRelatedField):
    """A session id looked up among the sessions the requesting user can see: an unknown id and another
    district's id get the same 400."""

    default_error_messages = {
        "does_not_exist": 'Invalid pk "{pk_value}": no {model} with this id that you can see.',
        "incorrect_type": "Must be a valid UUID string.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return super().get_queryset().for_user(getattr(request, "user", None))

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str):
            self.fail("incorrect_type")
        pk = self.pk_field.to_internal_value(data)
        queryset = self.get_queryset()
        try:
            return queryset.get(pk=pk)
        except queryset.model.DoesNotExist:
            self.fail("does_not_exist", model=queryset.model._meta.verbose_name, pk_value=data)


class SessionSetupSerializer(serializers.ModelSerializer):
    """Auto-populate created_by from request.user when available."""

    session_type = SessionTypeField()
    academic_session = ScopedSessionIdField(queryset=AcademicSession.objects.all(), allow_null=True, required=False)
    exam_session = ScopedSessionIdField(queryset=ExamSession.objects.all(), allow_null=True, required=False)
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
