from django import forms

from rostering.models import District


class IntegrationTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which product or vendor will read your roster with it.")
    district = forms.ModelChoiceField(queryset=District.objects.none(), empty_label=None)

    def __init__(self, *args, districts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts
        if districts.count() <= 1:
            self.fields["district"].widget = forms.HiddenInput()
            first = districts.first()
            if first is not None:
                self.fields["district"].initial = first.pk

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the integration a name.")
        return name
