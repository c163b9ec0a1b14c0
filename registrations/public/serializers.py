"""Serializers of the public participant API: they parse the participant's input and document the JSON the
views answer with (the JSON itself is built by ``registrations.public.common``). They never decide."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registrations.choices import RegistrationMode, RosterPolicy, SubmissionStatus
from registrations.services.participation import NextStep
from registrations.validators import FIELD_STATES, FIELD_TYPES
from rostering.common.serializers import StrictInputSerializer

NEXT_STEPS = (NextStep.COMPLETE_FORM, NextStep.CORRECTIONS_REQUIRED, NextStep.READ_ONLY_STATUS)


def _enum(values, *, nullable: bool = False, **kwargs):
    """A string field documented as an inline enum (no shared component, so no enum-name collisions)."""
    schema = {"type": "string", "enum": [*values, *([None] if nullable else [])]}
    if nullable:
        schema["nullable"] = True

    @extend_schema_field(schema)
    class EnumField(serializers.CharField):
        pass

    return EnumField(allow_null=nullable, **kwargs)


# --- input -----------------------------------------------------------------------------------------------


class PublicAccessCodeValidateSerializer(StrictInputSerializer):
    code = serializers.CharField(max_length=64, help_text="The access code as typed: case, spaces and dashes don't matter.")
    schoolCode = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default="",
        help_text="Optional school code (a routing hint). A code of another school gets the same generic error.",
    )
    deviceName = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="",
        help_text="Shown to staff next to the submission (e.g. 'Chrome / Android'). Defaults to the User-Agent.",
    )


class PublicDraftSaveSerializer(StrictInputSerializer):
    payload = serializers.DictField(
        child=serializers.JSONField(),
        help_text="The answers so far, keyed by the form's field keys (`form.fields[].key`). Unknown keys are a 400. "
        "Placement ids the session locks are replaced by the locked ones.",
    )
    version = serializers.IntegerField(
        required=False, allow_null=True, min_value=0,
        help_text="The `version` you last received (optimistic lock). Leave it out only for the very first save.",
    )


class PublicSubmitSerializer(StrictInputSerializer):
    version = serializers.IntegerField(
        required=False, allow_null=True, min_value=0,
        help_text="The `version` you last received. Required once a draft exists.",
    )
    payload = serializers.DictField(
        child=serializers.JSONField(), required=False,
        help_text="Optional final answers: saved as a draft first (same rules as the draft call), then submitted.",
    )


# --- output (documentation of the JSON the views build) -----------------------------------------------------


class PublicRegistrationSessionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    mode = _enum(RegistrationMode.values)
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    schoolId = serializers.UUIDField()
    schoolName = serializers.CharField()
    classDivisionId = serializers.UUIDField(allow_null=True, help_text="Set: every participant is placed in this class.")
    gradeLevelId = serializers.UUIDField(allow_null=True, help_text="Set: every participant is placed in this grade.")
    academicYearId = serializers.UUIDField(allow_null=True)
    termId = serializers.UUIDField(allow_null=True)
    endsAt = serializers.DateTimeField(allow_null=True, help_text="The deadline to show.")
    rosterPolicy = _enum(RosterPolicy.values)


class PublicFormFieldChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class PublicFormFieldSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    type = _enum(FIELD_TYPES, help_text="`subjects` and `classes` take a list of ids; `boolean` true/false; "
                 "`date` YYYY-MM-DD; the others a string.")
    state = _enum([s for s in FIELD_STATES if s != "hidden"])
    group = serializers.CharField(help_text="Heading the field belongs under (personal, contact, guardian, …).")
    required = serializers.BooleanField()
    locked = serializers.BooleanField(help_text="Set by the school (placement lock): show it disabled.")
    choices = PublicFormFieldChoiceSerializer(many=True, required=False)
    pattern = serializers.CharField(required=False)
    minLength = serializers.IntegerField(required=False)
    maxLength = serializers.IntegerField(required=False)
    help = serializers.CharField(required=False)


class PublicFormSerializer(serializers.Serializer):
    fields = PublicFormFieldSerializer(many=True)


class PublicGradeLevelOptionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()


class PublicClassDivisionOptionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    gradeLevelId = serializers.UUIDField()


class PublicSubjectOptionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()


class PublicSelectionLocksSerializer(serializers.Serializer):
    gradeLocked = serializers.BooleanField()
    classLocked = serializers.BooleanField()
    gradeLevelId = serializers.UUIDField(allow_null=True)
    classDivisionId = serializers.UUIDField(allow_null=True)


class PublicSelectionContextSerializer(serializers.Serializer):
    gradeLevels = PublicGradeLevelOptionSerializer(many=True)
    classDivisions = PublicClassDivisionOptionSerializer(many=True)
    subjects = PublicSubjectOptionSerializer(many=True)
    locks = PublicSelectionLocksSerializer()


class PublicValidationSummarySerializer(serializers.Serializer):
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="Messages per field key for answers that are not valid yet.")
    missing = serializers.ListField(child=serializers.CharField(), help_text="Required fields still empty.")
    changedFields = serializers.ListField(child=serializers.CharField(),
                                          help_text="Fields that differ from the roster (student verification).")
    warnings = serializers.ListField(child=serializers.CharField(), help_text="The same, as sentences to show.")


class PublicSubmissionSerializer(serializers.Serializer):
    status = _enum(SubmissionStatus.values)
    version = serializers.IntegerField()
    payload = serializers.DictField(child=serializers.JSONField())
    validationSummary = PublicValidationSummarySerializer()
    correctionMessage = serializers.CharField(allow_blank=True)
    flaggedFields = serializers.ListField(child=serializers.CharField())
    submittedAt = serializers.DateTimeField(allow_null=True)
    reviewReason = serializers.CharField(allow_blank=True, help_text="Why it was rejected (empty otherwise).")


class PublicAccessCodeValidationSerializer(serializers.Serializer):
    registrationToken = serializers.CharField(help_text="Send as `Authorization: Bearer <registrationToken>`.")
    expiresInSeconds = serializers.IntegerField()
    nextStep = _enum(NEXT_STEPS)
    session = PublicRegistrationSessionSerializer()
    form = PublicFormSerializer()
    selectionContext = PublicSelectionContextSerializer()
    prefill = serializers.DictField(
        child=serializers.JSONField(), allow_null=True,
        help_text="What the roster knows about the code's person (student verification), keyed like the form.",
    )
    submission = PublicSubmissionSerializer(allow_null=True)


class PublicDraftSavedSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="Send it with the next save or the submit.")
    status = _enum([SubmissionStatus.DRAFT, SubmissionStatus.NEEDS_CORRECTION])
    validationSummary = PublicValidationSummarySerializer()
    savedAt = serializers.DateTimeField()


class PublicParticipantStatusSerializer(serializers.Serializer):
    status = _enum([*SubmissionStatus.values, "not_started"])
    nextStep = _enum(NEXT_STEPS)
    version = serializers.IntegerField(help_text="0 before the first save.")
    submittedAt = serializers.DateTimeField(allow_null=True)
    correctionMessage = serializers.CharField(allow_blank=True)
    flaggedFields = serializers.ListField(child=serializers.CharField())
    reviewReason = serializers.CharField(allow_blank=True)
    payload = serializers.DictField(child=serializers.JSONField())
    validationSummary = PublicValidationSummarySerializer()


