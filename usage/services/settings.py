"""The workspace's choices for the tracking API: which group traits update which account fields,
whether unknown accounts are created, and how long raw events are kept."""

from django.db import transaction
from django.utils.translation import gettext as _

from workspaces.audit import record_audit
from workspaces.errors import DomainError
from workspaces.policy import authorize

from ..models import MAPPABLE_ACCOUNT_FIELDS, IngestSettings
from ..selectors import ingest_settings


@transaction.atomic
def ensure_defaults(*, workspace):
    """A new workspace's ingestion settings (the defaults); idempotent. Called by provisioning."""
    IngestSettings.objects.for_workspace(workspace).get_or_create(workspace=workspace)


def parse_trait_mapping(text):
    """`trait = field` lines → {trait: field}; raises DomainError naming the bad line."""
    mapping = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        trait, sep, field = (part.strip() for part in line.partition("="))
        if not sep or not trait or field not in MAPPABLE_ACCOUNT_FIELDS:
            raise DomainError(
                _("Line %(n)d: write “trait = field”, the field one of %(fields)s.")
                % {"n": number, "fields": ", ".join(MAPPABLE_ACCOUNT_FIELDS)},
                field="trait_mapping",
            )
        mapping[trait] = field
    return mapping


@transaction.atomic
def update_ingest_settings(*, workspace, actor, **fields):
    authorize(actor, "usage.manage")
    mapping = fields.get("trait_mapping")
    if mapping is not None:
        if not isinstance(mapping, dict) or any(
            not isinstance(k, str) or not k or v not in MAPPABLE_ACCOUNT_FIELDS for k, v in mapping.items()
        ):
            raise DomainError(_("Map traits to one of: %s.") % ", ".join(MAPPABLE_ACCOUNT_FIELDS),
                              field="trait_mapping")
    obj = ingest_settings(workspace=workspace)
    allowed = {"create_unknown_accounts", "trait_mapping", "numeric_traits_to_attributes", "retention_days"}
    changes = {}
    for name, value in fields.items():
        if name not in allowed:
            raise DomainError(_("Unknown setting."), field=name)
        if getattr(obj, name) != value:
            changes[name] = [str(getattr(obj, name)), str(value)]
            setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    if changes:
        record_audit(workspace=workspace, actor=actor, action="usage_settings.updated", obj=obj, changes=changes)
    return obj
