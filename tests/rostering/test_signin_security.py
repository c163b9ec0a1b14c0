"""Staff sign-in security: lockouts per account and per address (django-axes) on the login page and /admin/,
the sign-in lockouts page of district admins, and the password reset by e-mail."""

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.urls import reverse

from rostering.common.errors import ApplicationError, NotFound
from rostering.services import signin_lockout_clear, signin_lockout_clear_for_user
from tests.rostering import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "pass-12345-word"  # the factories' password
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
LOCKED = "Sign-in is locked for now"
WRONG = "Please enter a correct username and password"
LIMIT = settings.AXES_FAILURE_LIMIT


def sign_in(client, username, password, *, ip="10.0.0.1", path=LOGIN, **extra):
    data = {"username": username, "password": password}
    if path == ADMIN_LOGIN:
        data["next"] = "/admin/"
    return client.post(path, data, REMOTE_ADDR=ip, **extra)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def lock_account(client, username, *, ip="10.0.0.1", times=LIMIT):
    for _ in range(times):
        sign_in(client, username, "wrong-password", ip=ip)


def pass_the_cool_off():
    """Move every counted failure back past the cool-off, as if that much time had gone by."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME - datetime.timedelta(seconds=1))


def unlock(client, kind, value):
    return client.post(reverse("signin_lockout_unlock"), {"kind": kind, "value": value})


# --- the lockout --------------------------------------------------------------------------------


def test_twenty_wrong_passwords_are_refused_then_the_right_one_too_until_a_district_admin_unlocks(client, world):
    username = world.registrar.username
    for attempt in range(1, 21):
        response = sign_in(client, username, f"wrong-{attempt}")
        assert not signed_in(client)
        if attempt < LIMIT:
            assert response.status_code == 200, attempt
            assert WRONG in response.text
        else:
            assert response.status_code == 429, attempt
            assert LOCKED in response.text
            assert "Ask a district admin to unlock it, or wait" in response.text
            assert "Traceback" not in response.text
    assert sum(AccessAttempt.objects.filter(username=username).values_list("failures_since_start", flat=True)) == LIMIT

    response = sign_in(client, username, PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.text
    assert not signed_in(client)

    admin_client = type(client)()
    admin_client.force_login(world.district_admin)
    response = unlock(admin_client, "account", username)
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=username).exists()

    response = sign_in(client, username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert signed_in(client)


def test_the_right_password_works_again_once_the_cool_off_has_passed(client, world):
    username = world.registrar.username
    lock_account(client, username, times=20)
    response = sign_in(client, username, PASSWORD)
    assert response.status_code == 429

    pass_the_cool_off()
    response = sign_in(client, username, PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_the_lockout_page_says_how_long_it_lasts_and_styles_like_the_login_page(client, world):
    lock_account(client, world.registrar.username)
    response = sign_in(client, world.registrar.username, PASSWORD)
    assert response.status_code == 429
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"wait {minutes} minutes" in response.text
    assert int(response["Retry-After"]) == minutes * 60
    assert 'class="auth-card card"' in response.text
    assert reverse("password_reset") in response.text
    assert 'role="alert"' in response.text
    templates = [t.name for t in response.templates]
    assert "account/login.html" in templates


def test_the_lock_counts_down_from_the_last_failure(client, world):
    lock_account(client, world.registrar.username)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=10))
    response = sign_in(client, world.registrar.username, PASSWORD)
    assert response.status_code == 429
    left = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60) - 10
    assert f"wait {left} minute" in response.text


def test_the_address_locks_across_usernames(client, world):
    for name in ["nobody", "dadmin", "viewer", "teacher_6a", "registrar_b"][:LIMIT]:
        sign_in(client, name, "wrong-password", ip="198.51.100.7")
    # Each account failed once only, but the address is locked, for every account.
    response = sign_in(client, world.registrar.username, PASSWORD, ip="198.51.100.7")
    assert response.status_code == 429
    assert LOCKED in response.text
    assert not signed_in(client)
    # From another address the same account signs in.
    response = sign_in(client, world.registrar.username, PASSWORD, ip="198.51.100.8")
    assert response.status_code == 302
    assert signed_in(client)


def test_the_account_locks_across_addresses(client, world):
    for n in range(LIMIT):
        sign_in(client, world.viewer.username, "wrong-password", ip=f"203.0.113.{n + 1}")
    response = sign_in(client, world.viewer.username, PASSWORD, ip="203.0.113.200")
    assert response.status_code == 429
    assert not signed_in(client)
    # Other accounts from those addresses are not locked (each address failed once).
    response = sign_in(client, world.registrar.username, PASSWORD, ip="203.0.113.1")
    assert response.status_code == 302


def test_a_forged_forwarded_for_header_does_not_give_a_fresh_address(client, world):
    for n in range(LIMIT):
        sign_in(client, f"guess{n}", "wrong", ip="192.0.2.10", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}")
    response = sign_in(client, world.registrar.username, PASSWORD, ip="192.0.2.10", HTTP_X_FORWARDED_FOR="10.9.9.99")
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.10"}


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, world, settings):
    settings.SCHOOL_SESSIONS = {**settings.SCHOOL_SESSIONS, "TRUSTED_PROXY_COUNT": 1}
    for n in range(LIMIT):
        sign_in(client, f"guess{n}", "wrong", ip="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.2.3.4, 198.51.100.{n}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {f"198.51.100.{n}" for n in range(LIMIT)}
    # The proxy's own address is not locked: each client address failed once.
    response = sign_in(client, world.registrar.username, PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.200")
    assert response.status_code == 302
    client.logout()
    # A malformed forwarded entry falls back to the proxy's address instead of failing.
    response = sign_in(client, "guess", "wrong", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address")
    assert response.status_code == 200
    assert AccessAttempt.objects.filter(ip_address="10.0.0.2", username="guess").exists()


def test_admin_login_locks_too_with_the_admin_look(client, world):
    root = world.superuser
    for attempt in range(1, LIMIT + 1):
        response = sign_in(client, root.username, "wrong-password", path=ADMIN_LOGIN)
        assert response.status_code == (429 if attempt == LIMIT else 200)
    response = sign_in(client, root.username, PASSWORD, path=ADMIN_LOGIN)
    assert response.status_code == 429
    assert LOCKED in response.text
    assert "admin/signin_locked.html" in [t.name for t in response.templates]
    assert "School Sessions administration" in response.text
    assert not signed_in(client)
    # The staff login page refuses the same account: the count is shared.
    response = sign_in(client, root.username, PASSWORD)
    assert response.status_code == 429


def test_failures_on_both_login_pages_add_up(client, world):
    for _ in range(LIMIT - 1):
        sign_in(client, world.superuser.username, "wrong", path=ADMIN_LOGIN)
    response = sign_in(client, world.superuser.username, "wrong")
    assert response.status_code == 429


def test_a_success_does_not_clear_the_failures_of_the_address(client, world):
    for n in range(LIMIT - 1):
        sign_in(client, f"guess{n}", "wrong")
    assert sign_in(client, world.registrar.username, PASSWORD).status_code == 302
    client.logout()
    response = sign_in(client, "guess-again", "wrong")
    assert response.status_code == 429


def test_the_test_clients_login_goes_through_the_lockout(client, world):
    assert client.login(username=world.registrar.username, password=PASSWORD)
    client.logout()
    for _ in range(LIMIT):
        assert not client.login(username=world.viewer.username, password="wrong")
    assert not client.login(username=world.viewer.username, password=PASSWORD)
    assert AccessAttempt.objects.filter(username=world.viewer.username, ip_address="127.0.0.1").exists()


# --- the sign-in lockouts page ------------------------------------------------------------------


@pytest.fixture
def lockouts(client, world):
    """The registrar (district) and the other district's registrar locked out, and an address locked by
    failures on unknown accounts."""
    lock_account(client, world.registrar.username, ip="10.1.0.1")
    lock_account(client, world.other_registrar.username, ip="10.2.0.1")
    for n in range(LIMIT):
        sign_in(client, f"ghost{n}", "wrong", ip="10.3.0.1")
    return world


def page_of(client):
    response = client.get(reverse("signin_lockouts"))
    return response, response.text


def test_district_admin_sees_and_unlocks_only_their_districts_staff(client_for, lockouts):
    w = lockouts
    client = client_for(w.district_admin)
    response, html = page_of(client)
    assert response.status_code == 200
    assert w.registrar.username in html
    assert "10.1.0.1" in html
    assert w.other_registrar.username not in html
    assert "10.2.0.1" not in html and "10.3.0.1" not in html and "ghost0" not in html
    assert html.count(">Unlock</button>") == 1

    assert unlock(client, "account", w.other_registrar.username).status_code == 404
    assert unlock(client, "account", "ghost0").status_code == 404
    assert unlock(client, "address", "10.3.0.1").status_code == 404
    assert unlock(client, "address", "10.2.0.1").status_code == 404
    assert AccessAttempt.objects.filter(username=w.other_registrar.username).exists()
    assert AccessAttempt.objects.filter(ip_address="10.3.0.1").exists()

    response = unlock(client, "account", w.registrar.username)
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=w.registrar.username).exists()
    response = client.get(response["Location"])
    assert f"Sign-in unlocked for the account “{w.registrar.username}”." in response.text
    assert "Nobody is locked out" in response.text


@pytest.mark.parametrize("persona", ["registrar", "class_teacher", "viewer", "other_registrar"])
def test_other_roles_may_not_see_or_unlock_lockouts(client_for, lockouts, persona):
    client = client_for(getattr(lockouts, persona))
    assert client.get(reverse("signin_lockouts")).status_code == 403
    assert unlock(client, "account", lockouts.registrar.username).status_code == 403
    assert AccessAttempt.objects.filter(username=lockouts.registrar.username).exists()
    assert reverse("signin_lockouts") not in client.get(reverse("dashboard")).text


def test_anonymous_visitors_are_sent_to_sign_in(client, lockouts):
    response = client.get(reverse("signin_lockouts"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    response = unlock(client, "account", lockouts.registrar.username)
    assert response.status_code == 302
    assert AccessAttempt.objects.filter(username=lockouts.registrar.username).exists()


def test_unlock_is_post_only_with_csrf(client, lockouts):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(lockouts.district_admin)
    assert csrf_client.get(reverse("signin_lockout_unlock")).status_code == 405
    response = csrf_client.post(reverse("signin_lockout_unlock"), {"kind": "account", "value": lockouts.registrar.username})
    assert response.status_code == 403
    assert AccessAttempt.objects.filter(username=lockouts.registrar.username).exists()


def test_superuser_sees_every_lockout_and_unlocks_an_address(client_for, lockouts):
    w = lockouts
    client = client_for(w.superuser)
    response, html = page_of(client)
    assert response.status_code == 200
    for text in [w.registrar.username, w.other_registrar.username, "10.3.0.1", "ghost0"]:
        assert text in html
    # An address locked only by the failures of a locked account is freed with it, so it is not listed twice.
    assert html.count(">Unlock</button>") == 3
    assert reverse("admin:axes_accessattempt_changelist") in html

    assert unlock(client, "address", "10.3.0.1").status_code == 302
    assert not AccessAttempt.objects.filter(ip_address="10.3.0.1").exists()
    assert unlock(client, "account", w.other_registrar.username).status_code == 302
    assert not AccessAttempt.objects.filter(username=w.other_registrar.username).exists()


def test_the_page_lists_columns_and_the_menu_links_to_it(client_for, lockouts):
    client = client_for(lockouts.district_admin)
    html = page_of(client)[1]
    for heading in ["Username", "Address", "Failures", "Last attempt", "Locked until"]:
        assert f">{heading}</th>" in html
    assert re.search(rf"<td class=\"num\">\s*{LIMIT}\s*</td>", html)
    assert f'href="{reverse("signin_lockouts")}"' in client.get(reverse("dashboard")).text


def test_district_admin_sees_an_address_locked_by_their_own_staff(client, client_for, world):
    for user in [world.registrar, world.viewer, world.class_teacher, world.registrar, world.viewer][:LIMIT]:
        sign_in(client, user.username, "wrong", ip="10.4.0.1")
    admin = client_for(world.district_admin)
    html = page_of(admin)[1]
    assert "10.4.0.1" in html
    assert unlock(admin, "address", "10.4.0.1").status_code == 302
    assert not AccessAttempt.objects.filter(ip_address="10.4.0.1").exists()


def test_an_expired_lock_is_not_listed(client_for, lockouts):
    pass_the_cool_off()
    html = page_of(client_for(lockouts.superuser))[1]
    assert "Nobody is locked out" in html


def test_a_bad_unlock_request_changes_nothing(client_for, lockouts):
    client = client_for(lockouts.superuser)
    before = sorted(AccessAttempt.objects.values_list("username", "ip_address", "failures_since_start"))
    response = unlock(client, "address", "not-an-ip")
    assert response.status_code == 302
    assert "Not a valid IP address." in client.get(response["Location"]).text
    response = client.post(reverse("signin_lockout_unlock"), {"kind": "everything"})
    assert response.status_code == 302
    assert "Nothing to unlock" in client.get(response["Location"]).text
    assert sorted(AccessAttempt.objects.values_list("username", "ip_address", "failures_since_start")) == before


def test_superusers_get_axes_own_admin(client_for, lockouts):
    client = client_for(lockouts.superuser)
    response = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert response.status_code == 200
    assert lockouts.registrar.username in response.text


# --- the unlock service ---------------------------------------------------------------------------


def test_service_unlocks_an_account_within_reach(client, world):
    lock_account(client, world.registrar.username, ip="10.1.0.1", times=LIMIT - 1)
    lock_account(client, world.registrar.username, ip="10.1.0.2", times=1)
    assert sign_in(client, world.registrar.username, PASSWORD, ip="10.1.0.3").status_code == 429
    assert signin_lockout_clear(actor=world.district_admin, username=world.registrar.username) == 2
    assert signin_lockout_clear(actor=world.district_admin, username=world.registrar.username) == 0


def test_service_refuses_out_of_reach_and_bad_requests(client, world):
    lock_account(client, world.other_registrar.username)
    with pytest.raises(NotFound):
        signin_lockout_clear(actor=world.district_admin, username=world.other_registrar.username)
    with pytest.raises(NotFound):
        signin_lockout_clear(actor=world.district_admin, ip_address="10.0.0.1")
    with pytest.raises(PermissionDenied):
        signin_lockout_clear(actor=world.registrar, username=world.registrar.username)
    with pytest.raises(ApplicationError):
        signin_lockout_clear(actor=world.superuser)
    with pytest.raises(ApplicationError):
        signin_lockout_clear(actor=world.superuser, username="x", ip_address="10.0.0.1")
    with pytest.raises(ApplicationError):
        signin_lockout_clear(actor=world.superuser, ip_address="10.0.0.300")
    with pytest.raises(TypeError):
        signin_lockout_clear(world.superuser, "x")  # keyword-only
    assert AccessAttempt.objects.filter(username=world.other_registrar.username).exists()
    assert signin_lockout_clear(actor=world.superuser, ip_address="10.0.0.1") == 1


def test_a_district_admin_of_two_districts_reaches_both(client, world):
    f.MembershipFactory(user=world.district_admin, district=world.other_district, school=None, role="district_admin")
    lock_account(client, world.other_registrar.username)
    assert signin_lockout_clear(actor=world.district_admin, username=world.other_registrar.username) == 1


# --- password reset -------------------------------------------------------------------------------


def reset_link_from(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/password-reset/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_the_login_page_links_to_the_password_reset(client, db):
    html = client.get(LOGIN).text
    assert f'<a href="{reverse("password_reset")}">Forgot your password?</a>' in html


def test_password_reset_end_to_end_also_lifts_the_lockout(client, world):
    user = world.registrar
    lock_account(client, user.username, times=20)
    assert sign_in(client, user.username, PASSWORD).status_code == 429

    response = client.get(reverse("password_reset"))
    assert response.status_code == 200
    assert "account/password_reset_form.html" in [t.name for t in response.templates]
    response = client.post(reverse("password_reset"), {"email": user.email.upper()})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert "Check your e-mail" in client.get(response["Location"]).text

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert message.subject == "Reset your School Sessions password"
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert user.username in message.body
    link = reset_link_from(message)

    response = client.get(link)
    assert response.status_code == 302  # Django swaps the token for a session key
    set_password_url = response["Location"]
    response = client.get(set_password_url)
    assert response.status_code == 200
    assert "Choose a new password" in response.text
    new_password = "a-brand-new-passphrase-2026"
    response = client.post(set_password_url, {"new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_complete")
    assert "Password changed" in client.get(response["Location"]).text

    assert not AccessAttempt.objects.filter(username=user.username).exists()
    assert sign_in(client, user.username, PASSWORD).status_code == 200  # the old password is gone
    response = sign_in(client, user.username, new_password)
    assert response.status_code == 302
    assert signed_in(client)

    client.logout()
    response = client.get(link)  # a used link is refused
    assert response.status_code == 200
    assert "Link no longer valid" in response.text


def test_password_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, world):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_password_reset_rejects_a_weak_password_and_a_forged_link(client, world):
    client.post(reverse("password_reset"), {"email": world.viewer.email})
    link = reset_link_from(mail.outbox[0])
    set_password_url = client.get(link)["Location"]
    response = client.post(set_password_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    assert "This password is too common." in response.text
    forged = re.sub(r"/[^/]+/$", "/forged-token-123/", link)
    assert "Link no longer valid" in client.get(forged, follow=True).text


def test_signin_lockout_clear_for_user_leaves_other_addresses_locked(client, world):
    lock_account(client, world.registrar.username, ip="10.5.0.1")
    for n in range(LIMIT):
        sign_in(client, f"ghost{n}", "wrong", ip="10.5.0.2")
    assert signin_lockout_clear_for_user(user=world.registrar) == 1
    assert AccessAttempt.objects.filter(ip_address="10.5.0.2").count() == LIMIT


def test_the_admin_login_offers_the_same_password_reset(client, db):
    html = client.get(ADMIN_LOGIN).text
    assert "Forgotten your login credentials?" in html
    response = client.get(reverse("admin_password_reset"))
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset")


def test_the_lockouts_page_takes_junk_pages_and_htmx(client_for, lockouts):
    client = client_for(lockouts.superuser)
    assert client.get(reverse("signin_lockouts"), {"page": "junk"}).status_code == 200
    response = client.get(reverse("signin_lockouts"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="results"')
    assert "HX-Request" in response["Vary"]


def test_password_reset_is_rate_limited_per_e_mail_and_per_address(client, world):
    from rostering.views.account import RESET_PER_ADDRESS, RESET_PER_EMAIL

    for _ in range(RESET_PER_EMAIL + 2):
        response = client.post(reverse("password_reset"), {"email": world.viewer.email}, REMOTE_ADDR="10.6.0.1")
        assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == RESET_PER_EMAIL  # past the limit the answer is the same, and no e-mail goes out

    for n in range(RESET_PER_ADDRESS - RESET_PER_EMAIL - 2):
        assert client.post(reverse("password_reset"), {"email": f"someone{n}@example.org"},
                           REMOTE_ADDR="10.6.0.1").status_code == 302
    response = client.post(reverse("password_reset"), {"email": world.registrar.email}, REMOTE_ADDR="10.6.0.1")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many password reset requests from your address" in response.text
    assert len(mail.outbox) == RESET_PER_EMAIL
    # another address is not held back
    response = client.post(reverse("password_reset"), {"email": world.registrar.email}, REMOTE_ADDR="10.6.0.2")
    assert response.status_code == 302 and len(mail.outbox) == RESET_PER_EMAIL + 1
