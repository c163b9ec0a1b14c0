"""Staff forms. Field widgets get our CSS through the templates' field partial."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils import timezone


class StyledAuthenticationForm(AuthenticationForm):
    pass


class StyledPasswordChangeForm(PasswordChangeForm):
    pass


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use this token, e.g. “SIS nightly sync”.")
    expires_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Optional. Leave empty for a token that lasts until revoked.",
    )

    def clean_expires_at(self):
        value = self.cleaned_data.get("expires_at")
        if value and value <= timezone.now():
            raise forms.ValidationError("The expiry must be in the future.")
        return value
