"""Forms of the staff pages: the sessions filter bar and the consumer form."""

from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator

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


class MarkingFilterForm(forms.Form):
    activity = forms.ChoiceField(required=False, label="Activity")
    class_division = forms.ChoiceField(required=False, label="Class")
    question = forms.ChoiceField(required=False, label="Question")
    state = forms.ChoiceField(required=False, label="Show", choices=[
        ("awaiting", "Awaiting a score"), ("marked", "Marked"), ("all", "All essays")])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from assessments.models import Question
        from rostering.models import ClassDivision

        activities = Activity.objects.for_user(user, perm=Perm.ROSTER_VIEW).order_by("title").values_list("reference", "title")
        self.fields["activity"].choices = [("", "All activities"), *activities]
        classes = (ClassDivision.objects.for_user(user, perm=Perm.ROSTER_VIEW).select_related("school")
                   .order_by("school__name", "name"))
        self.fields["class_division"].choices = [("", "All classes"), *((str(c.pk), f"{c.name} · {c.school.name}") for c in classes)]
        questions = (Question.objects.filter(district_id__in=Activity.objects.for_user(user, perm=Perm.ROSTER_VIEW)
                                             .values("district_id"), type__in=["longtext", "longtextV2", "plaintext"])
                     .order_by("reference").values_list("reference", "stimulus"))
        self.fields["question"].choices = [("", "All questions"), *((ref, f"{ref}: {text[:50]}") for ref, text in questions)]

    def filters(self) -> dict:
        if not self.is_valid():
            return {k: v for k, v in self.cleaned_data.items() if k not in self.errors and v}
        return {k: v for k, v in self.cleaned_data.items() if v}


class MarkForm(forms.Form):
    score = forms.DecimalField(min_value=0, decimal_places=2, max_digits=8, label="Score")

    def __init__(self, *args, max_score: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_score = max_score
        field = self.fields["score"]
        field.max_value = max_score
        field.widget.attrs.update({"min": 0, "max": f"{max_score:g}", "step": "0.5", "inputmode": "decimal",
                                   "autofocus": True})
        field.validators.append(MaxValueValidator(max_score, message=f"The score cannot be more than {max_score:g}."))
