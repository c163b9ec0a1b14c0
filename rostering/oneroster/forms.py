from __future__ import annotations

from django import forms

from rostering.models import District, School


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".zip,.csv"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ImportForm(forms.Form):
    package = MultipleFileField(label="OneRoster package",
                                help_text="The zip your student information system exports, or its CSV files (manifest.csv included).")
    target = forms.ChoiceField(label="Import into")
    all_or_nothing = forms.BooleanField(
        required=False, label="All or nothing",
        help_text="Apply nothing if any row is rejected. Otherwise the valid rows are applied and the rejected ones listed.")
    dry_run = forms.BooleanField(required=False, label="Dry run", help_text="Check and count only; write nothing.")

    def __init__(self, *args, districts, schools, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(f"d:{d.pk}", f"{d.name} (whole district)") for d in districts]
        choices += [(f"s:{s.pk}", f"{s.name} only ({s.district.name})") for s in schools]
        self.fields["target"].choices = choices
        self._districts = {str(d.pk): d for d in districts}
        self._schools = {str(s.pk): s for s in schools}

    def clean_target(self):
        kind, _, pk = self.cleaned_data["target"].partition(":")
        if kind == "d" and pk in self._districts:
            return self._districts[pk], None
        if kind == "s" and pk in self._schools:
            school = self._schools[pk]
            return school.district, school
        raise forms.ValidationError("Choose where to import.")


class ExportForm(forms.Form):
    target = forms.ChoiceField(label="Export")

    def __init__(self, *args, districts, schools, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(f"d:{d.pk}", f"{d.name} (whole district)") for d in districts]
        choices += [(f"s:{s.pk}", f"{s.name} only ({s.district.name})") for s in schools]
        self.fields["target"].choices = choices
        self._districts = {str(d.pk): d for d in districts}
        self._schools = {str(s.pk): s for s in schools}

    clean_target = ImportForm.clean_target


class ApiClientForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="The program that will read the roster, e.g. “Google Classroom”.")
    district = forms.ModelChoiceField(queryset=District.objects.none())
    demographics = forms.BooleanField(required=False, label="May read demographics",
                                      help_text="Birth dates, sex and race of students (the roster-demographics scope).")

    def __init__(self, *args, districts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts
        if districts.count() == 1:
            self.fields["district"].initial = districts.first()
            self.fields["district"].widget = forms.HiddenInput()


__all__ = ["ApiClientForm", "ExportForm", "ImportForm", "School"]
