"""Forms of the review pages. They parse input; the review services decide (policy, status, version)."""

from __future__ import annotations

import uuid

from django import forms

from registrations.models import CodeAttempt
from registrations.review_selectors import PERSON_TYPE_CHOICES, STATUS_FILTER_CHOICES

ALL_STATUSES = "all"
MAX_BULK = 200


class SubmissionFilterForm(forms.Form):
    """The queue's filters (GET). Without a status the queue shows what awaits review."""

    q = forms.CharField(
        label="Search", required=False, max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "Name, code or number", "type": "search"}),
    )
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[*STATUS_FILTER_CHOICES[:1], (ALL_STATUSES, "All statuses"),
                                        *STATUS_FILTER_CHOICES[1:]])
    session = forms.ChoiceField(label="Session", required=False)
    person_type = forms.ChoiceField(label="Person type", required=False,
                                    choices=[("", "Everyone"), *PERSON_TYPE_CHOICES])
    class_division = forms.ChoiceField(label="Class", required=False)

    def __init__(self, *args, sessions=(), classes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].choices = [("", "All sessions")] + [
            (str(s.pk), f"{s.title} · {s.school.name}") for s in sessions
        ]
        self.fields["class_division"].choices = [("", "All classes")] + [
            (str(c.pk), f"{c.name} · {c.school.name}") for c in classes
        ]

    def selector_filters(self) -> dict:
        """The cleaned values as ``submission_list`` filters (a value that is not a choice is ignored)."""
        data = {}
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data
        status = data.get("status") or self.initial_status()
        return {
            "search": data.get("q", ""),
            "status": "" if status == ALL_STATUSES else status,
            "session_id": data.get("session") or None,
            "person_type": data.get("person_type") or None,
            "class_division_id": data.get("class_division") or None,
        }

    @staticmethod
    def initial_status() -> str:
        return STATUS_FILTER_CHOICES[0][0]


class VersionedActionForm(forms.Form):
    """Every action posts the version the reviewer saw: a newer one means someone else acted (409)."""

    expected_version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ApproveForm(VersionedActionForm):
    note = forms.CharField(label="Note (optional)", required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(VersionedActionForm):
    reason = forms.CharField(
        label="Reason", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the history and shown to the participant. Rejection is final.",
    )


class CorrectionForm(VersionedActionForm):
    message = forms.CharField(
        label="Message to the participant", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Say what to fix; the participant sees it when they enter their code again.",
    )
    flagged_fields = forms.MultipleChoiceField(
        label="Fields to correct", required=False, widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["flagged_fields"].choices = [(f.key, f.label) for f in fields]


class BulkApproveForm(forms.Form):
    ids = forms.CharField(required=False)  # replaced by the getlist parsing below
    next = forms.CharField(required=False)

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self._raw_ids = data.getlist("ids") if data is not None and hasattr(data, "getlist") else []

    def clean(self):
        cleaned = super().clean()
        ids: list[uuid.UUID] = []
        for raw in self._raw_ids:
            try:
                value = uuid.UUID(str(raw))
            except ValueError:
                raise forms.ValidationError("The selection contains an invalid id.") from None
            if value not in ids:
                ids.append(value)
        if not ids:
            raise forms.ValidationError("Select at least one submission to approve.")
        if len(ids) > MAX_BULK:
            raise forms.ValidationError(f"Approve at most {MAX_BULK} submissions at a time.")
        cleaned["ids"] = ids
        return cleaned


class CodeAttemptFilterForm(forms.Form):
    outcome = forms.ChoiceField(label="Outcome", required=False,
                                choices=[("", "All outcomes"), *CodeAttempt.Outcome.choices])
