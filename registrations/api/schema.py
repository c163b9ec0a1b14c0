"""OpenAPI documentation of the registrations API: the JSON settings formats, error bodies, examples.

The error bodies are ``rostering.common.schema``'s (this module says what each status means here); the ``requiredFields`` and
``approvalPolicy`` schemas describe what ``registrations.validators`` accepts.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from registrations.validators import (
    APPROVAL_DEFAULTS,
    APPROVAL_REVIEW_VALUES,
    CATALOGUE,
    CUSTOM_TYPES,
    FIELD_STATES,
)
from rostering.common import schema

# --- requiredFields / approvalPolicy --------------------------------------------------------------

_FIELD_RULES_PROPERTIES = {
    "state": {
        "type": "string",
        "enum": list(FIELD_STATES),
        "description": "required: the participant must answer; optional: shown, may stay empty; hidden: not asked.",
    },
    "label": {"type": "string", "maxLength": 200, "description": "Shown instead of the default label."},
    "help": {"type": "string", "maxLength": 200, "description": "Help text under the field."},
    "pattern": {
        "type": "string",
        "maxLength": 300,
        "description": "A regular expression the answer must match (text fields only). An invalid regex is a 400.",
    },
    "minLength": {"type": "integer", "minimum": 0, "maximum": 5000, "description": "Text fields only."},
    "maxLength": {
        "type": "integer",
        "minimum": 0,
        "maximum": 5000,
        "description": "Text fields only; must not be below minLength.",
    },
    "choices": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "minItems": 1,
        "maxItems": 100,
        "uniqueItems": True,
        "description": "Allowed answers (text fields only).",
    },
}

REQUIRED_FIELDS_DESCRIPTION = (
    "Which fields the participant form asks for, and their rules. Send only what differs from the mode's "
    "defaults: the stored (and returned) document is always complete. `null` resets to the defaults.\n\n"
    "`fields` is keyed by catalogue field: "
    + ", ".join(f"`{f.key}`" for f in CATALOGUE)
    + ". A rule may be an object or just the state string (`\"phone\": \"required\"`). First and last names "
    "cannot be hidden. Text rules (`pattern`, `minLength`, `maxLength`, `choices`) only apply to text, "
    "email, phone and choice fields.\n\n"
    "`custom` adds up to 30 questions of type " + ", ".join(f"`{t}`" for t in CUSTOM_TYPES) + "; each needs a "
    "unique `key` (a-z, 0-9, _, starting with a letter, not a catalogue key) and a `label`; a `choice` "
    "question needs `choices`.\n\n"
    "Unknown keys, unknown fields, an invalid regular expression or minLength > maxLength are a 400 naming "
    "the path of the problem (e.g. `requiredFields.fields.phone.pattern`).\n\n"
    "Defaults: teacher_self_registration asks for names, phone, email and subjects taught; student_intake "
    "for names, date of birth, gender, guardian and grade; student_verification for names, date of birth, "
    "gender, grade and class."
)

REQUIRED_FIELDS_SCHEMA = {
    "type": "object",
    "description": REQUIRED_FIELDS_DESCRIPTION,
    "additionalProperties": False,
    "properties": {
        "fields": {
            "type": "object",
            "description": "Rules per catalogue field, keyed by its name: "
            + ", ".join(f.key for f in CATALOGUE) + ".",
            "additionalProperties": {
                "oneOf": [
                    {"type": "string", "enum": list(FIELD_STATES)},
                    {"type": "object", "additionalProperties": False, "properties": _FIELD_RULES_PROPERTIES},
                ]
            },
        },
        "custom": {
            "type": "array",
            "maxItems": 30,
            "description": "The session's own questions.",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["key", "label"],
                "properties": {
                    "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"},
                    "type": {"type": "string", "enum": list(CUSTOM_TYPES), "default": "text"},
                    **_FIELD_RULES_PROPERTIES,
                    "state": {"type": "string", "enum": ["required", "optional"], "default": "optional"},
                },
            },
        },
    },
    "example": {
        "fields": {
            "phone": {"state": "required", "pattern": "^\\+?[0-9 ]{9,15}$"},
            "national_id": "required",
            "date_of_birth": {"state": "optional", "label": "Date of birth (as on your ID)"},
        },
        "custom": [
            {"key": "house", "label": "Sports house", "type": "choice", "state": "required",
             "choices": ["Red", "Blue", "Green"]}
        ],
    },
}

APPROVAL_POLICY_DESCRIPTION = (
    "How submissions are reviewed and imported. Send only what differs from the defaults; the stored "
    "document is complete; `null` resets to the defaults. Unknown keys or wrong types are a 400.\n\n"
    "- `review`: `manual` (staff approve each submission) or `auto_approve` (approved on submit).\n"
    "- `autoApproveUnchangedVerifications`: in verification sessions, approve submissions that confirm "
    "the roster data unchanged (default true for student_verification, false otherwise).\n"
    "- `importOnApproval`: write approved records to the roster at once (default true).\n"
    "- `requireRejectReason`, `requireCorrectionMessage`: staff must explain rejections and correction "
    "requests (default true)."
)

APPROVAL_POLICY_SCHEMA = {
    "type": "object",
    "description": APPROVAL_POLICY_DESCRIPTION,
    "additionalProperties": False,
    "properties": {
        key: (
            {"type": "string", "enum": list(APPROVAL_REVIEW_VALUES), "default": default}
            if key == "review"
            else {"type": "boolean", "default": default}
        )
        for key, default in APPROVAL_DEFAULTS.items()
    },
    "example": {"review": "manual", "importOnApproval": True, "requireRejectReason": True},
}


# --- errors ---------------------------------------------------------------------------------------


_DESCRIPTIONS = {
    400: "Bad input (validation, unknown or out-of-reach ids, malformed JSON, bad filter or page size). "
    "Nothing was written.",
    401: "Missing, invalid, expired or revoked credentials.",
    403: "Your role does not allow this action here (viewers and class teachers are read-only).",
    404: "No such session or code, or it is outside your districts and schools.",
    409: "The session's status does not allow this (an invalid transition, or codes for a closed session).",
}

_EXAMPLES = {
    400: OpenApiExample(
        "Refused edit",
        value={
            "detail": "'classDivisionId' can only be changed while the session is a draft; it is open. ...",
            "code": "invalid",
            "errors": {
                "classDivisionId": [
                    "'classDivisionId' can only be changed while the session is a draft; it is open. Editable now: "
                    "approvalPolicy, description, endsAt, expectedCount, requiredFields, startsAt, title."
                ]
            },
        },
    ),
    401: OpenApiExample(
        "Not authenticated", value={"detail": "Invalid, expired or revoked token.", "code": "authentication_failed"}
    ),
    403: OpenApiExample(
        "Role too low", value={"detail": "Your role does not allow this action here.", "code": "permission_denied"}
    ),
    404: OpenApiExample("Not found", value={"detail": "Not found.", "code": "not_found"}),
    409: OpenApiExample(
        "Invalid transition",
        value={
            "detail": "Cannot move this session from 'closed' to 'open'. From 'closed' the allowed targets are: "
            "archived.",
            "code": "invalid_transition",
            "currentStatus": "closed",
            "allowedTargets": ["archived"],
        },
    ),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """``{400: OpenApiResponse(...), …}`` for ``extend_schema(responses=...)`` of the sessions and codes API."""
    return schema.error_responses(codes, descriptions=_DESCRIPTIONS, examples=_EXAMPLES)


# --- the review queue's errors ------------------------------------------------------------------------
_REVIEW = {
    400: ("Bad input: malformed JSON, unknown keys, a missing reason or message the session's policy requires, "
          "a flagged field that is not on the form, a bad filter or page size. Nothing was written.",
          OpenApiExample("Reason required", value={
              "detail": "Give a reason for the rejection.", "code": "invalid",
              "errors": {"reason": ["Give a reason for the rejection."]}})),
    401: ("Missing, invalid, expired or revoked credentials.",
          OpenApiExample("Not authenticated", value={"detail": "Invalid, expired or revoked token.",
                                                     "code": "authentication_failed"})),
    403: ("Your role does not allow this here (viewers are read-only; only roles that manage registrations "
          "import).",
          OpenApiExample("Role too low", value={"detail": "Your role does not allow reviewing submissions.",
                                                "code": "permission_denied"})),
    404: ("No such submission, or it is outside your districts and schools (class teachers: outside their "
          "classes).",
          OpenApiExample("Not found", value={"detail": "Not found.", "code": "not_found"})),
    409: ("Refused because of the submission's state: `invalid_transition` (the status does not allow the "
          "action), `stale_version` (expectedVersion is not the current version) or `import_failed`. Nothing "
          "changed (a failed import records its reason on the submission).",
          OpenApiExample("Stale version", value={
              "detail": "This submission changed since you opened it (another reviewer or the participant acted). "
                        "Reload it.", "code": "stale_version", "currentVersion": 4, "status": "approved"})),
}
_INVALID_TRANSITION = OpenApiExample("Invalid transition", value={
    "detail": "Cannot move this submission from 'imported' to 'approved'. From 'imported' the allowed targets "
              "are: none (final status).",
    "code": "invalid_transition", "currentStatus": "imported", "allowedTargets": []})


def review_error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The same for the review queue API (its 409s: invalid transition, stale version, failed import)."""
    descriptions = {code: description for code, (description, _example) in _REVIEW.items()}
    examples = {code: [example, _INVALID_TRANSITION] if code == 409 else [example]
                for code, (_description, example) in _REVIEW.items()}
    return schema.error_responses(codes, descriptions=descriptions, examples=examples)
