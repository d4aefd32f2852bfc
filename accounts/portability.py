"""What of the accounts floor travels in a workspace archive: all of it, as it is.

Stages, churn reasons (archived ones too: accounts name them by code), tags, accounts (with their tags, custom attributes and the values the nightly steps copied
onto them), the stage history, the change log of their tracked fields, contacts, touchpoints (with the contacts they involved),
contracts and their versions (a deleted line's versions too: the past keeps them). Nothing here holds an id inside a value: every reference is a foreign key.
"""

from workspaces.transfer import Part, Table

from . import services
from .models import (
    Account,
    AccountChange,
    ChurnReasonCategory,
    Contact,
    Contract,
    ContractVersion,
    LifecycleStage,
    StageChange,
    Tag,
    Touchpoint,
)

AccountTags = Account.tags.through
TouchpointContacts = Touchpoint.contacts.through

PART = Part("accounts", [
    Table(LifecycleStage),
    Table(ChurnReasonCategory),
    Table(Tag),
    Table(Account),
    Table(AccountTags, keep_ids=False, scope=lambda ws: AccountTags.objects.filter(account__workspace=ws)),
    Table(StageChange, keep_ids=False),
    Table(AccountChange, keep_ids=False),
    Table(Contact),
    Table(Touchpoint),
    Table(TouchpointContacts, keep_ids=False,
          scope=lambda ws: TouchpointContacts.objects.filter(touchpoint__workspace=ws)),
    Table(Contract),
    Table(ContractVersion, keep_ids=False),
], defaults=services.ensure_defaults)
