from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from rostering.views import account

urlpatterns = [
    path("accounts/login/", account.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", account.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password-reset/", account.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password-reset/done/", account.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password-reset/<uidb64>/<token>/",
        account.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password-reset/complete/",
        account.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # The admin's login page links to this name ("Forgotten your login credentials?").
    path(
        "admin/password-reset/",
        RedirectView.as_view(pattern_name="password_reset"),
        name="admin_password_reset",
    ),
    path("accounts/lockouts/", account.signin_lockouts, name="signin_lockouts"),
    path("accounts/lockouts/unlock/", account.signin_lockout_unlock, name="signin_lockout_unlock"),
    path("accounts/tokens/", account.api_tokens, name="api_tokens"),
    path("accounts/tokens/<uuid:pk>/revoke/", account.api_token_revoke_view, name="api_token_revoke"),
    path("switch-school/", account.switch_school, name="switch_school"),
]
