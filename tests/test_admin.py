"""The Django admin is scoped: a staff admin of workspace A sees, counts and edits nothing of B."""

import pytest
from django.urls import reverse

from accounts.models import Account, Contact
from workspaces.models import ApiToken
from workspaces.policy import SYSTEM
from workspaces.services import issue_token

from .factories import AccountFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_admin(admin, client):
    """Workspace A's admin, with the staff flag that lets them into the Django admin."""
    admin.user.is_staff = True
    admin.user.save()
    client.force_login(admin.user)
    return client


def test_changelist_shows_only_administered_workspace(staff_admin, account, other_account):
    response = staff_admin.get(reverse("admin:accounts_account_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert account.name in html
    assert other_account.name not in html
    assert "Other CS" not in html  # not even in the workspace list filter
    assert response.context["cl"].result_count == 1
    assert response.context["cl"].queryset.count() == 1


def test_changelist_count_ignores_other_workspace(staff_admin, ws, other_ws, account, other_account):
    AccountFactory.create_batch(3, workspace=other_ws)
    response = staff_admin.get(reverse("admin:accounts_account_changelist") + "?q=KK")
    assert response.context["cl"].result_count == 1
    assert response.context["cl"].full_result_count in (None, 1)


def test_change_page_of_other_workspace_is_not_shown(staff_admin, other_account):
    url = reverse("admin:accounts_account_change", args=[other_account.pk])
    response = staff_admin.get(url, follow=True)
    assert other_account.name not in response.content.decode()
    assert response.redirect_chain  # Django's "doesn't exist" redirect to the admin index
    history = staff_admin.get(reverse("admin:accounts_account_history", args=[other_account.pk]), follow=True)
    assert other_account.name not in history.content.decode()


def test_cannot_delete_other_workspace_row(staff_admin, other_account):
    staff_admin.post(
        reverse("admin:accounts_account_delete", args=[other_account.pk]), {"post": "yes"}, follow=True
    )
    assert Account.all_workspaces.filter(pk=other_account.pk).exists()
    # nor through the bulk "delete selected" action
    staff_admin.post(
        reverse("admin:accounts_account_changelist"),
        {"action": "delete_selected", "_selected_action": [other_account.pk], "post": "yes"},
    )
    assert Account.all_workspaces.filter(pk=other_account.pk).exists()


def test_foreign_key_choices_are_scoped(staff_admin, ws, csm, outsider, account, other_account):
    response = staff_admin.get(reverse("admin:accounts_contact_add"))
    account_choices = list(response.context["adminform"].form.fields["account"].queryset)
    assert account_choices == [account]
    workspace_choices = list(response.context["adminform"].form.fields["workspace"].queryset)
    assert workspace_choices == [ws]

    response = staff_admin.get(reverse("admin:accounts_account_change", args=[account.pk]))
    owners = set(response.context["adminform"].form.fields["owner"].queryset)
    assert csm in owners and outsider not in owners
    assert outsider.display_name not in response.content.decode()


def test_cannot_save_a_row_into_a_workspace_not_administered(staff_admin, ws, other_ws, account):
    response = staff_admin.post(
        reverse("admin:accounts_contact_add"),
        {"workspace": other_ws.pk, "account": account.pk, "name": "Smuggled", "role": "end_user"},
    )
    assert response.status_code == 200  # the form comes back with an error
    assert "workspace" in response.context["adminform"].form.errors
    assert not Contact.all_workspaces.filter(name="Smuggled").exists()


def test_related_object_must_share_the_row_workspace(client, ws, other_ws, admin, outsider, account):
    # An admin of both workspaces still cannot attach A's contact to B's account.
    admin.user.is_staff = True
    admin.user.save()
    from workspaces.services import add_member

    add_member(workspace=other_ws, user=admin.user, role="admin", actor=SYSTEM)
    client.force_login(admin.user)
    response = client.post(
        reverse("admin:accounts_contact_add"),
        {"workspace": other_ws.pk, "account": account.pk, "name": "Crossed", "role": "end_user"},
    )
    assert response.status_code == 200
    assert "account" in response.context["adminform"].form.errors
    assert not Contact.all_workspaces.filter(name="Crossed").exists()


def test_staff_admin_can_edit_own_workspace_row(staff_admin, ws, account):
    contact = ContactFactory(account=account, name="Before")
    response = staff_admin.post(
        reverse("admin:accounts_contact_change", args=[contact.pk]),
        {"workspace": ws.pk, "account": account.pk, "name": "After", "role": "end_user", "email": ""},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    contact.refresh_from_db()
    assert contact.name == "After"


def test_non_admin_member_with_staff_flag_sees_nothing(client, manager, account):
    manager.user.is_staff = True
    manager.user.save()
    client.force_login(manager.user)
    assert client.get(reverse("admin:accounts_account_changelist")).status_code == 403
    assert "Sakura" not in client.get(reverse("admin:index")).content.decode()


def test_superuser_sees_every_workspace(client, account, other_account):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    html = client.get(reverse("admin:accounts_account_changelist")).content.decode()
    assert account.name in html and other_account.name in html


def test_workspace_and_membership_lists_are_scoped(staff_admin, ws, other_ws, outsider):
    html = staff_admin.get(reverse("admin:workspaces_workspace_changelist")).content.decode()
    assert "Acme CS" in html and "Other CS" not in html
    html = staff_admin.get(reverse("admin:workspaces_membership_changelist")).content.decode()
    assert "outsider" not in html


def test_api_token_admin_shows_hint_never_hash(staff_admin, csm, outsider):
    token, key = issue_token(membership=csm, name="CRM sync")
    other_token, _ = issue_token(membership=outsider, name="Other sync")
    html = staff_admin.get(reverse("admin:workspaces_apitoken_changelist")).content.decode()
    assert token.key_hint in html
    assert token.key_hash not in html and key not in html
    assert "Other sync" not in html
    html = staff_admin.get(reverse("admin:workspaces_apitoken_change", args=[token.pk])).content.decode()
    assert token.key_hint in html
    assert token.key_hash not in html and key not in html


def test_api_token_admin_revokes(staff_admin, csm, outsider):
    token, _ = issue_token(membership=csm, name="CRM sync")
    other_token, _ = issue_token(membership=outsider, name="Other sync")
    staff_admin.post(
        reverse("admin:workspaces_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk, other_token.pk]},
    )
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert ApiToken.objects.get(pk=other_token.pk).revoked_at is None


@pytest.mark.parametrize(
    "name",
    [
        "workspaces_workspace", "workspaces_membership", "workspaces_apitoken", "workspaces_auditevent",
        "accounts_lifecyclestage", "accounts_tag", "accounts_account", "accounts_stagechange",
        "accounts_contact", "accounts_touchpoint", "accounts_contract",
        "usage_productuser", "usage_usageevent", "usage_dailyaccountusage",
    ],
)
def test_every_changelist_renders_and_hides_other_workspace(staff_admin, account, other_account, name):
    response = staff_admin.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200
    assert other_account.name not in response.content.decode()
    assert "Other CS" not in response.content.decode()
