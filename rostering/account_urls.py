from django.contrib.auth import views as auth_views
from django.urls import path

from rostering.views import account

urlpatterns = [
    path("accounts/login/", account.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", account.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/tokens/", account.api_tokens, name="api_tokens"),
    path("accounts/tokens/<uuid:pk>/revoke/", account.api_token_revoke_view, name="api_token_revoke"),
    path("switch-school/", account.switch_school, name="switch_school"),
]
