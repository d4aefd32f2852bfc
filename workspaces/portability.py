"""What of the tenant layer travels in a workspace archive: its members, and its audit log.

Members are people, and people are logins of a deployment, not of a workspace:
- a user travels as username, e-mail, names and whether the login is active; never the password
  hash (an archive is a file that gets copied around: it must not hand out every member's hash
  for offline cracking) nor staff or superuser rights (they are the deployment's to give). On
  import a user is matched by username; a username that exists with another e-mail address is
  refused, since it may be another person. A user that does not exist is created without a usable
  password: they set one (password reset, or `manage.py changepassword`) before they sign in.
- memberships travel with their roles and whether they are active.
- API tokens travel as records (name, hint, dates), revoked: a key that worked here must not start
  working in another deployment, or keep working in a copy after it is revoked in the original.
  Members issue new tokens after a restore.

The audit log travels whole: it is the history of who did what. Its rows keep their times and
actors; the object an event is about is renamed to the object's new id, or, for an object that no
longer existed, kept by its description alone (its old id would name another row here).
"""

import secrets

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, AuditEvent, Membership
from .transfer import Part, Table, TransferError

CREDENTIALS_NOTE = _("API tokens and write keys do not travel: they were imported as revoked records. "
                     "Issue new tokens, and new write keys for the SDKs.")
NO_PASSWORD_NOTE = _("Members who had no login in this deployment were created without a password: "
                     "they set one before signing in.")


def retire_credential(values, context):
    """A token or write key arrives as a record that no key opens (the archive holds no key hash)."""
    values["key_hash"] = secrets.token_hex(32)  # the hash of no key anyone has
    if values.get("revoked_at") is None:
        values["revoked_at"] = context.now
    context.note(str(CREDENTIALS_NOTE))
    return values


class UserTable(Table):
    """The logins of the workspace's members, matched or created by username (see above)."""

    FIELDS = ["username", "email", "first_name", "last_name", "is_active"]

    def __init__(self):
        User = get_user_model()
        super().__init__(User, name="auth.user", scope=self._members_users)
        self.fields = [User._meta.get_field(name) for name in self.FIELDS]
        self.by_attname = {f.attname: f for f in self.fields}

    @staticmethod
    def _members_users(workspace):
        users = Membership.objects.for_workspace(workspace).values("user_id")
        return get_user_model()._default_manager.filter(pk__in=users)

    def import_rows(self, workspace, rows, context):
        User = get_user_model()
        count = 0
        for row in rows:
            values = self.values(row, context)
            username, email = values["username"], values.get("email") or ""
            user = User._default_manager.filter(username=username).first()
            if user is None:
                user = User(**values)
                user.set_unusable_password()
                user.save()
                context.note(str(NO_PASSWORD_NOTE))
            elif (user.email or "").lower() != email.lower():
                raise TransferError(
                    f"The user {username!r} exists in this deployment with another e-mail address "
                    f"({user.email or 'none'}; the archive says {email or 'none'}). It may be another person: "
                    "change that user's username or e-mail here, then import again."
                )
            context.idmap.add(User, row["id"], user.pk)
            count += 1
        return count


def _audit_object(values, context):
    """The event's object by its new id; an object the source no longer had keeps no id."""
    old = values.get("object_id") or ""
    if old.isdigit():
        models = [m for m in apps.get_models() if m._meta.model_name == values.get("object_type")]
        new = context.idmap.find(models[0], int(old)) if len(models) == 1 else None
        values["object_id"] = str(new) if new is not None else ""
    return values


MEMBERS = Part("members", [
    UserTable(),
    Table(Membership),
    Table(ApiToken, scope=lambda ws: ApiToken.objects.filter(membership__workspace=ws), exclude=["key_hash"],
          into=retire_credential),
])

# Last of all: the audit names rows of every other part.
AUDIT = Part("audit", [Table(AuditEvent, keep_ids=False, into=_audit_object)])
