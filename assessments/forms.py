"""Forms of the staff pages: the sessions filter bar and the consumer form."""

from __future__ import annotations

from django import forms

from assessments.choices import SessionStatus
from assessments.models import Activity
from rostering.models import District
from rostering.permissions import Perm

MAX_DOMAINS = 20


class SessionFilterForm(forms.Form):
    activity = forms.ChoiceField(required=False, label="Activity")
    user = forms.CharField(required=False, label="Learner", max_length=100,
                           widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or user id", "autocomplete": "off"}))
    status = forms.ChoiceField(required=False, label="Status", choices=[("", "Any status"), *SessionStatus.choices])
    date_from = forms.DateField(required=False, label="Updated from", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="Updated to", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        activities = Activity.objects.for_user(user, perm=Perm.ROSTER_VIEW).order_by("title").values_list("reference", "title")
        self.fields["activity"].choices = [("", "All activities"), *((ref, f"{title} ({ref})") for ref, title in activities)]

    def filters(self) -> dict:
        if not self.is_valid():
            # Junk in the query string never fails the page: keep what is valid, drop the rest.
            return {k: v for k, v in self.cleaned_data.items() if k not in self.errors and v}
        return {k: v for k, v in self.cleaned_data.items() if v}


class ConsumerForm(forms.Form):
    district = forms.ModelChoiceField(queryset=District.objects.none(), empty_label=None)
    name = forms.CharField(max_length=200, required=True, label="Name",
                           help_text="What uses it, e.g. “Data warehouse nightly sync”.")
    allowed_domains = forms.CharField(
        required=False, label="Allowed domains",
        help_text="Domains the client names in its security packet, one per line or comma-separated "
                  "(<code>*.example.org</code> for subdomains). Empty: any.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, districts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts
        if districts.count() == 1:
            self.fields["district"].widget = forms.HiddenInput()
            self.fields["district"].initial = districts.first()

    def clean_allowed_domains(self) -> list[str]:
        raw = self.cleaned_data.get("allowed_domains") or ""
        domains = [d.strip().lower() for chunk in raw.splitlines() for d in chunk.split(",") if d.strip()]
        if len(domains) > MAX_DOMAINS:
            raise forms.ValidationError(f"At most {MAX_DOMAINS} domains.")
        for d in domains:
            bare = d[2:] if d.startswith("*.") else d
            if not bare or len(d) > 253 or not all(part and part.replace("-", "").isalnum() for part in bare.split(".")):
                raise forms.ValidationError(f"“{d}” is not a domain name.")
        return domains
