"""Sign-in, password change, the school switcher and personal API tokens."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rostering.context_processors import SESSION_SCHOOL_KEY
from rostering.forms import ApiTokenForm, StyledAuthenticationForm, StyledPasswordChangeForm
from rostering.models import ApiToken, School
from rostering.services import api_token_create, api_token_revoke


class LoginView(auth_views.LoginView):
    template_name = "account/login.html"
    authentication_form = StyledAuthenticationForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "account/password_change.html"
    form_class = StyledPasswordChangeForm
    success_url = reverse_lazy("dashboard")

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


@login_required
@require_GET
def switch_school(request):
    """Remember which of the user's schools the pages should focus on ('' = all of them)."""
    school_id = request.GET.get("school", "")
    if school_id:
        try:
            school = get_object_or_404(School.objects.for_user(request.user), pk=school_id)
        except ValidationError:  # not a UUID
            raise Http404 from None
        request.session[SESSION_SCHOOL_KEY] = str(school.pk)
    else:
        request.session.pop(SESSION_SCHOOL_KEY, None)
    target = request.GET.get("next") or request.headers.get("Referer") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = reverse_lazy("dashboard")
    return HttpResponseRedirect(target)


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """List the user's tokens and create one; a new token is shown exactly once."""
    new_token = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, new_token = api_token_create(
            user=request.user, name=form.cleaned_data["name"], expires_at=form.cleaned_data.get("expires_at")
        )
        messages.success(request, "Token created. Copy it now: it will not be shown again.")
        form = ApiTokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "account/api_tokens.html", {"form": form, "tokens": tokens, "new_token": new_token})


@login_required
@require_POST
def api_token_revoke_view(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    try:
        api_token_revoke(token=token, actor=request.user)
    except PermissionDenied:  # pragma: no cover - the lookup above already restricts to the owner
        raise
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("api_tokens")
