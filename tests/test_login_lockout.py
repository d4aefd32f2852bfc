"""Sign-in lockout (django-axes): repeated wrong passwords for one username from one address lock that
pair out for a cool-off period; the page says so; a workspace admin (or the site's superuser in the
Django admin) can lift it."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from workspaces.models import AuditEvent

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
MEMBERS = reverse("workspaces:members")
ATTACKER = "203.0.113.7"


def sign_in(client, username, password, ip=ATTACKER, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def signed_in(response):
    return response.status_code == 302 and response.url == reverse("home")


def lock_out(client, username, ip=ATTACKER, attempts=5):
    for _ in range(attempts):
        sign_in(client, username, "wrong-password", ip)


def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, csm, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    responses = [sign_in(client, "csm", f"guess-{n}") for n in range(30)]
    assert [r.status_code for r in responses[:4]] == [200] * 4  # the form again, with its error
    assert {r.status_code for r in responses[4:]} == {429}
    response = sign_in(client, "csm", PASSWORD)
    assert not signed_in(response)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-in attempts" in page
    assert "15 minutes" in page
    assert "ask a workspace admin" in page
    assert int(response.headers["Retry-After"]) == 15 * 60
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_username_and_address(client, csm, csm2):
    lock_out(client, "csm")
    assert sign_in(client, "csm", PASSWORD).status_code == 429
    assert signed_in(sign_in(client, "csm", PASSWORD, ip="198.51.100.20"))  # the CSM at the office
    client.logout()
    assert signed_in(sign_in(client, "csm2", PASSWORD))  # a colleague behind the same address


def test_a_success_before_the_limit_starts_the_count_again(client, csm):
    lock_out(client, "csm", attempts=4)
    assert signed_in(sign_in(client, "csm", PASSWORD))
    client.logout()
    lock_out(client, "csm", attempts=4)
    assert signed_in(sign_in(client, "csm", PASSWORD))


def test_the_lockout_ends_after_the_cool_off(client, csm):
    lock_out(client, "csm")
    assert sign_in(client, "csm", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert signed_in(sign_in(client, "csm", PASSWORD))


def test_limit_and_cool_off_come_from_settings(client, csm, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=3)
    lock_out(client, "csm", attempts=2)
    response = sign_in(client, "csm", PASSWORD)
    assert response.status_code == 429 and "3 minutes" in response.content.decode()


def test_a_made_up_forwarded_address_does_not_escape_the_lockout(client, csm, settings):
    settings.NUM_PROXIES = 0  # no proxy in front: X-Forwarded-For is whatever the client says
    for n in range(5):
        sign_in(client, "csm", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert sign_in(client, "csm", PASSWORD, HTTP_X_FORWARDED_FOR="10.0.0.99").status_code == 429


def test_behind_a_proxy_the_forwarded_client_address_counts(client, csm, settings):
    settings.NUM_PROXIES = 1
    proxy = "10.1.1.1"
    for _ in range(5):
        sign_in(client, "csm", "wrong", ip=proxy, HTTP_X_FORWARDED_FOR=f"spoofed, {ATTACKER}")
    assert sign_in(client, "csm", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    assert signed_in(sign_in(client, "csm", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.20"))
    assert AccessAttempt.objects.filter(ip_address=ATTACKER).exists()


def test_the_admin_site_login_is_locked_too(client, admin):
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": "admin", "password": "wrong"}, REMOTE_ADDR=ATTACKER)
    response = client.post(reverse("admin:login"), {"username": "admin", "password": PASSWORD},
                           REMOTE_ADDR=ATTACKER)
    assert response.status_code == 429


# --- lifting a lockout -------------------------------------------------------------------------------
def test_workspace_admin_sees_and_lifts_a_members_lockout(client, login, admin, csm, csm2):
    lock_out(client, "csm")
    page = login(admin).get(MEMBERS)
    assert page.context["locked_out"] == {"csm"}
    row = page.content.decode().split('data-member="csm"')[1].split("</tr>")[0]
    assert "Locked out" in row
    response = login(admin).post(reverse("workspaces:member_unlock", args=[csm.pk]))
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="csm").exists()
    event = AuditEvent.objects.for_workspace(admin.workspace).get(action="member.unlocked")
    assert event.actor == admin and event.object_id == str(csm.pk)
    client.logout()
    assert signed_in(sign_in(client, "csm", PASSWORD))


@pytest.mark.parametrize("role_fixture", ["manager", "csm2", "viewer"])
def test_only_admins_lift_lockouts(request, client, login, role_fixture, csm):
    lock_out(client, "csm")
    member = request.getfixturevalue(role_fixture)
    assert login(member).post(reverse("workspaces:member_unlock", args=[csm.pk])).status_code == 403
    assert AccessAttempt.objects.filter(username="csm").exists()


def test_another_workspaces_admin_neither_sees_nor_lifts_the_lockout(client, login, csm, outsider):
    lock_out(client, "csm")
    page = login(outsider).get(MEMBERS)
    assert page.context["locked_out"] == set()
    assert login(outsider).post(reverse("workspaces:member_unlock", args=[csm.pk])).status_code == 404
    assert AccessAttempt.objects.filter(username="csm").exists()


def test_the_sites_superuser_lifts_lockouts_in_the_django_admin(client, csm, django_user_model):
    lock_out(client, "csm")
    root = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(root)
    changelist = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert changelist.status_code == 200 and "csm" in changelist.content.decode()
    attempt = AccessAttempt.objects.get(username="csm")
    client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    client.logout()
    assert signed_in(sign_in(client, "csm", PASSWORD))


def test_a_staff_workspace_admin_does_not_see_the_deployments_attempts(client, admin, outsider):
    lock_out(client, "outsider")
    admin.user.is_staff = True
    admin.user.save()
    client.force_login(admin.user)
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403
