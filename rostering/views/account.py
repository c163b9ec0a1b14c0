"""Sign-in (with its lockout page and the password reset), password change, the school switcher,
personal API tokens and the sign-in lockouts page of district admins."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from rostering.common import ratelimit
from rostering.common.errors import ApplicationError, NotFound
from rostering.common.http import safe_next, wants_partial
from rostering.context_processors import SESSION_SCHOOL_KEY
from rostering.forms import (
    ApiTokenForm,
    SigninUnlockForm,
    StyledAuthenticationForm,
    StyledPasswordChangeForm,
    StyledPasswordResetForm,
    StyledSetPasswordForm,
)
from rostering.models import ApiToken, School
from rostering.security import cool_off_minutes, failure_limit, forwarded_client_address, minutes_until
from rostering.selectors import signin_lockout_ends_at, signin_lockout_list
from rostering.services import (
    api_token_create,
    api_token_revoke,
    signin_lockout_clear,
    signin_lockout_clear_for_user,
)

LOCKOUTS_PER_PAGE = 50
# Password reset e-mails: per client address and per e-mail address, in windows of RESET_WINDOW seconds.
RESET_WINDOW = 15 * 60
RESET_PER_ADDRESS = 10
RESET_PER_EMAIL = 3


class LoginView(auth_views.LoginView):
    template_name = "account/login.html"
    authentication_form = StyledAuthenticationForm
    redirect_authenticated_user = True


def signin_locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the answer to a sign-in refused because of a lockout (429).

    The staff login page shows its own card with the message; ``/admin/`` keeps the admin's look.
    """
    ends_at = signin_lockout_ends_at(request=request, credentials=credentials)
    minutes = minutes_until(ends_at)
    context = {"lockout": {"minutes": minutes, "ends_at": ends_at, "cool_off_minutes": cool_off_minutes()}}
    if request.path.startswith(reverse("admin:index")):
        context |= {**admin.site.each_context(request), "title": "Sign-in locked"}
        response = render(request, "admin/signin_locked.html", context, status=429)
    else:
        context |= {"next": safe_next(request, ""), "form": StyledAuthenticationForm(request)}
        response = render(request, "account/login.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def _reset_timeout_hours() -> int:
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)


class PasswordResetView(auth_views.PasswordResetView):
    """Step 1: the e-mail address. The answer is the same whether or not an account uses it."""

    template_name = "account/password_reset_form.html"
    email_template_name = "account/password_reset_email.txt"
    subject_template_name = "account/password_reset_subject.txt"
    form_class = StyledPasswordResetForm
    success_url = reverse_lazy("password_reset_done")

    @property
    def extra_email_context(self):
        return {"timeout_hours": _reset_timeout_hours()}

    def form_valid(self, form):
        """Rate-limited per client address (a 429 saying how long to wait) and per e-mail address (past its
        limit no further e-mail goes out, and the answer stays the same, so it tells nothing about accounts)."""
        wait = ratelimit.hit("password-reset-ip", forwarded_client_address(self.request) or "unknown",
                             limit=RESET_PER_ADDRESS, window=RESET_WINDOW)
        if wait:
            minutes = -(-wait // 60)
            form.add_error(None, f"Too many password reset requests from your address. Please try again in "
                                 f"{minutes} minute{'s' if minutes != 1 else ''}.")
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(wait)
            return response
        email = form.cleaned_data["email"].strip().lower()
        if ratelimit.hit("password-reset-email", email, limit=RESET_PER_EMAIL, window=RESET_WINDOW):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "account/password_reset_done.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | {"timeout_hours": _reset_timeout_hours()}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link of the e-mail: a new password. Setting it also lifts that account's sign-in lockout."""

    template_name = "account/password_reset_confirm.html"
    form_class = StyledSetPasswordForm
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        signin_lockout_clear_for_user(user=form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "account/password_reset_complete.html"


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
    return HttpResponseRedirect(safe_next(request, reverse("dashboard"), referer=True))


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


@login_required
@require_GET
@vary_on_headers("HX-Request")
def signin_lockouts(request: HttpRequest) -> HttpResponse:
    """Current sign-in lockouts within the user's reach, each with an Unlock button (403 below district admin)."""
    lockouts = signin_lockout_list(user=request.user)
    page = Paginator(lockouts, LOCKOUTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "now": timezone.now(),
        "failure_limit": failure_limit(),
        "cool_off_minutes": cool_off_minutes(),
        "show_admin_link": request.user.is_superuser,
    }
    template = "account/signin_lockouts.html"
    return render(request, f"{template}#results" if wants_partial(request) else template, context)


@login_required
@require_POST
def signin_lockout_unlock(request: HttpRequest) -> HttpResponse:
    form = SigninUnlockForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing to unlock: the request was incomplete.")
        return redirect("signin_lockouts")
    kind, value = form.cleaned_data["kind"], form.cleaned_data["value"]
    target = {"username": value} if kind == SigninUnlockForm.ACCOUNT else {"ip_address": value}
    try:
        removed = signin_lockout_clear(actor=request.user, **target)
    except NotFound:
        raise Http404("No such lockout.") from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("signin_lockouts")
    what = f"the account “{value}”" if kind == SigninUnlockForm.ACCOUNT else f"the address {value}"
    if removed:
        messages.success(request, f"Sign-in unlocked for {what}.")
    else:
        messages.info(request, f"Sign-in was not locked for {what}.")
    return redirect("signin_lockouts")
