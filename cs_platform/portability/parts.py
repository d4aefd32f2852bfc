"""Every app's part of a workspace archive, in the order they are imported (a part after the parts
it refers to, like the nightly steps): members first, the audit log last, since it names rows of
every other part. A new app adds its `portability.PART` here, in its place, and touches nothing else.
"""

from accounts import portability as accounts
from coverage import portability as coverage
from expansion import portability as expansion
from healthscore import portability as healthscore
from imports import portability as imports
from lifecycle import portability as lifecycle
from onboarding import portability as onboarding
from playbooks import portability as playbooks
from programmes import portability as programmes
from renewals import portability as renewals
from segments import portability as segments
from success import portability as success
from usage import portability as usage
from voice import portability as voice
from workspaces import portability as workspaces

PARTS = [
    workspaces.MEMBERS,
    accounts.PART,
    usage.PART,
    imports.PART,
    segments.PART,
    coverage.PART,
    voice.PART,
    healthscore.PART,
    playbooks.PART,  # after health: a task may come from a health alert
    renewals.PART,
    expansion.PART,
    programmes.PART,
    lifecycle.PART,
    success.PART,  # after playbooks: a KPT note may name a playbook
    onboarding.PART,
    workspaces.AUDIT,
]

# Models of our apps that do not travel, and why. A model in neither PARTS nor here fails
# tests/test_portability_models.py: whoever adds a model decides whether a restore needs it.
NOT_EXPORTED = {
    "usage.HistoryImport": "a load of history in progress or done: the events and rollups it wrote travel with the "
                           "usage part; its checked upload is a working file of this deployment",
    "workspaces.Invitation": "an invitation link belongs to the deployment that sent it (only its hash is kept, "
                             "so it could not be opened elsewhere); after a move, admins invite again",
    "workspaces.UserPreference": "a person's own page language, not a workspace's: it belongs to no workspace "
                                 "(the workspace's own language travels with its settings)",
    "webhooks.Endpoint": "holds its signing secret, and archives hold no secrets: after a move an admin registers "
                         "the endpoints again, and each receiver gets its new secret",
    "webhooks.Delivery": "the delivery log (30 days) of the deployment that sent them: nothing a restore needs",
}


def exported_models():
    return {table.model for part in PARTS for table in part.tables}


def part_named(name):
    return next((part for part in PARTS if part.name == name), None)
