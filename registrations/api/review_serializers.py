"""Serializers of the review-queue API (``/api/v1/registrations/submissions``): camelCase JSON.

They parse and present, never decide: the review services check the role, the status, the approval
policy and the version. Unknown input keys are refused (400) so a typo never goes unnoticed.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registrations.choices import PersonType, SubmissionStatus
from registrations.review_forms import MAX_BULK
from registrations.review_selectors import AWAITING_REVIEW

# --- input ----------------------------------------------------------------------------------------------


class ReviewInputSerializer(serializers.Serializer):
    """Refuses keys it does not know instead of silently ignoring them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = [key for key in data if key not in self.fields]
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class ExpectedVersionMixin(serializers.Serializer):
    expectedVersion = serializers.IntegerField(
        required=False, allow_null=True, min_value=1,
        help_text="The `version` you reviewed. If the submission changed since (another reviewer, or the "
        "participant), the action is refused with a 409 `stale_version` and nothing changes. Leave it out to "
        "act on whatever the current version is.",
    )


class SubmissionApproveSerializer(ExpectedVersionMixin, ReviewInputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="",
                                 help_text="Kept in the history.")


class SubmissionRejectSerializer(ExpectedVersionMixin, ReviewInputSerializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="",
        help_text="Why. Required when the session's approvalPolicy.requireRejectReason is true (the default).",
    )


class SubmissionCorrectionSerializer(ExpectedVersionMixin, ReviewInputSerializer):
    message = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="",
        help_text="What the participant should fix. Required when approvalPolicy.requireCorrectionMessage is "
        "true (the default).",
    )
    flaggedFields = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list, max_length=100,
        help_text="Keys of the form's fields to highlight for the participant (e.g. `date_of_birth`). A key "
        "that is not on this session's form is a 400.",
    )


class BulkApproveSerializer(ReviewInputSerializer):
    ids = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=MAX_BULK,
        help_text=f"Submission ids to approve (at most {MAX_BULK}). Duplicates count once.",
    )

    def validate_ids(self, value):
        return list(dict.fromkeys(value))


class SubmissionListQuerySerializer(serializers.Serializer):
    """The queue's filters (query parameters)."""

    sessionId = serializers.UUIDField(required=False, help_text="Only this registration session.")
    status = serializers.ChoiceField(
        choices=[AWAITING_REVIEW, *SubmissionStatus.values], required=False,
        help_text="One status, or `awaiting_review` for submitted + resubmitted.",
    )
    personType = serializers.ChoiceField(choices=PersonType.values, required=False)
    classDivisionId = serializers.UUIDField(
        required=False, help_text="Only this class (class teachers only ever see their own classes)."
    )
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text="Words of the participant's name, their access code (with or without dashes), or their "
        "student/teacher number.",
    )

    def to_filters(self) -> dict[str, Any]:
        data = self.validated_data
        return {
            "session_id": data.get("sessionId"),
            "status": data.get("status"),
            "person_type": data.get("personType"),
            "class_division_id": data.get("classDivisionId"),
            "search": data.get("search", ""),
        }


# --- output ---------------------------------------------------------------------------------------------


class SubmissionReviewerSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class SubmissionValidationSummarySerializer(serializers.Serializer):
    """Computed by the server on every save and submit."""

    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text="Messages per field key.")
    missing = serializers.ListField(child=serializers.CharField(), required=False,
                                    help_text="Required fields left empty.")
    changedFields = serializers.ListField(child=serializers.CharField(), required=False,
                                          help_text="Verifications: fields that differ from the roster snapshot.")
    warnings = serializers.ListField(child=serializers.CharField(), required=False,
                                     help_text="The same, as sentences for a human.")


class SubmissionIdentitySerializer(serializers.Serializer):
    """Key fields the server extracted from the payload."""

    givenName = serializers.CharField(required=False)
    familyName = serializers.CharField(required=False)
    dateOfBirth = serializers.CharField(required=False)
    phone = serializers.CharField(required=False)
    guardianName = serializers.CharField(required=False)
    guardianPhone = serializers.CharField(required=False)
    number = serializers.CharField(required=False)
    gradeLevelId = serializers.CharField(required=False)
    classDivisionId = serializers.CharField(required=False)


class SubmissionSerializer(serializers.Serializer):
    """One submission in the queue."""

    id = serializers.UUIDField(read_only=True)
    sessionId = serializers.UUIDField(source="session_id", read_only=True)
    accessCode = serializers.CharField(source="access_code.display_code", read_only=True,
                                       help_text="The access code as printed (grouped with dashes).")
    displayName = serializers.CharField(source="display_name", read_only=True)
    personType = serializers.ChoiceField(source="person_type", choices=PersonType.choices, read_only=True)
    status = serializers.ChoiceField(choices=SubmissionStatus.choices, read_only=True)
    version = serializers.IntegerField(read_only=True,
                                       help_text="Incremented on every save, submit and review: send it back as "
                                       "`expectedVersion`.")
    payload = serializers.JSONField(read_only=True, help_text="The raw form data, keyed by form field.")
    normalizedIdentity = SubmissionIdentitySerializer(source="normalized_identity", read_only=True)
    validationSummary = SubmissionValidationSummarySerializer(source="validation_summary", read_only=True)
    gradeLevelId = serializers.UUIDField(source="grade_level_id", read_only=True, allow_null=True)
    classDivisionId = serializers.UUIDField(source="class_division_id", read_only=True, allow_null=True)
    correctionMessage = serializers.CharField(source="correction_message", read_only=True)
    flaggedFields = serializers.ListField(source="flagged_fields", child=serializers.CharField(), read_only=True)
    reviewReason = serializers.CharField(source="review_reason", read_only=True)
    submittedAt = serializers.DateTimeField(source="submitted_at", read_only=True, allow_null=True)
    reviewedBy = SubmissionReviewerSerializer(source="reviewed_by", read_only=True, allow_null=True)
    reviewedAt = serializers.DateTimeField(source="reviewed_at", read_only=True, allow_null=True)
    importedPersonId = serializers.UUIDField(source="imported_person_id", read_only=True, allow_null=True)
    importedAt = serializers.DateTimeField(source="imported_at", read_only=True, allow_null=True)
    importError = serializers.CharField(source="import_error", read_only=True,
                                        help_text="Why the last import failed (empty when it did not).")
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)


class SubmissionDuplicateSerializer(serializers.Serializer):
    """A roster person who looks like this participant."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(source="full_name", read_only=True)
    role = serializers.CharField(read_only=True)
    number = serializers.CharField(source="sis_id", read_only=True)
    dateOfBirth = serializers.DateField(source="date_of_birth", read_only=True, allow_null=True)
    schoolId = serializers.UUIDField(source="school_id", read_only=True, allow_null=True)
    gradeLevelId = serializers.UUIDField(source="grade_level_id", read_only=True, allow_null=True)


class SubmissionHistorySerializer(serializers.Serializer):
    """One status change (who, from, to, when, why)."""

    fromStatus = serializers.CharField(source="from_status", read_only=True,
                                       help_text="Empty for the first draft.")
    toStatus = serializers.CharField(source="to_status", read_only=True)
    actor = SubmissionReviewerSerializer(read_only=True, allow_null=True,
                                         help_text="The staff member; null for the participant or automatic steps.")
    reason = serializers.CharField(read_only=True)
    at = serializers.DateTimeField(source="created_at", read_only=True)


ACTIONS = ("approve", "reject", "requestCorrection", "import")


class SubmissionDetailSerializer(SubmissionSerializer):
    """A submission with what a reviewer needs beside it."""

    rosterSnapshot = serializers.JSONField(
        source="access_code.roster_snapshot", read_only=True,
        help_text="Verifications: what the roster held when the code was generated (empty for open codes).",
    )
    rosterMatchId = serializers.SerializerMethodField(
        help_text="The roster person an import would update (null: an import creates a new person)."
    )
    possibleDuplicates = serializers.SerializerMethodField()
    history = SubmissionHistorySerializer(source="status_changes.all", many=True, read_only=True)
    allowedActions = serializers.SerializerMethodField(
        help_text="What you may do now, given the status and your role."
    )

    def get_rosterMatchId(self, obj) -> str | None:
        match = self.context.get("match")
        return str(match.pk) if match is not None else None

    @extend_schema_field(SubmissionDuplicateSerializer(many=True))
    def get_possibleDuplicates(self, obj) -> list[dict]:
        return SubmissionDuplicateSerializer(self.context.get("duplicates", []), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ACTIONS)))
    def get_allowedActions(self, obj) -> list[str]:
        return list(self.context.get("allowed_actions", []))


class BulkApproveResultSerializer(serializers.Serializer):
    approved = serializers.ListField(child=serializers.UUIDField(), help_text="Ids that are now approved.")
    failed = serializers.DictField(child=serializers.CharField(), help_text="Id → why it was not approved.")


# --- errors (the bodies of rostering.common.exceptions.api_exception_handler) --------------------------------


class ReviewErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="A sentence for a human.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. `not_found`, `permission_denied`.")


class ReviewValidationErrorSerializer(ReviewErrorSerializer):
    errors = serializers.DictField(child=serializers.JSONField(),
                                   help_text="Messages per input field, under the API's camelCase names.")


class ReviewConflictSerializer(ReviewErrorSerializer):
    currentStatus = serializers.CharField(required=False, help_text="`invalid_transition`: the status now.")
    allowedTargets = serializers.ListField(child=serializers.CharField(), required=False,
                                           help_text="`invalid_transition`: where it may go from here.")
    currentVersion = serializers.IntegerField(required=False, help_text="`stale_version`: the version now.")
    status = serializers.CharField(required=False, help_text="`stale_version`: the status now.")
    importError = serializers.CharField(required=False, help_text="`import_failed`: why.")
