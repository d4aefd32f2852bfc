"""Hand-built playbooks for the engine tests (the design pages' service is not what they test)."""

from accounts.models import Account
from playbooks.definition import validate_definition
from playbooks.models import Playbook, PlaybookVersion


def make_playbook(ws, definition, *, name="Renewal watch", enabled=True):
    """A playbook of `definition` in `ws`, whose default library is switched off: some of it is
    enabled in every new workspace and would enrol the tests' accounts too (the tests count the runs
    of the playbooks they make)."""
    Playbook.all_workspaces.filter(workspace=ws).exclude(library_key="").update(enabled=False)
    clean = validate_definition(definition)
    playbook = Playbook.all_workspaces.create(workspace=ws, name=name, enabled=enabled,
                                              trigger_kind=clean["trigger"]["kind"])
    PlaybookVersion.all_workspaces.create(workspace=ws, playbook=playbook, number=1, definition=clean)
    return playbook


def new_version(playbook, definition):
    clean = validate_definition(definition)
    number = playbook.versions.count() + 1
    Playbook.all_workspaces.filter(pk=playbook.pk).update(trigger_kind=clean["trigger"]["kind"])
    return PlaybookVersion.all_workspaces.create(workspace=playbook.workspace, playbook=playbook, number=number,
                                                 definition=clean)


def set_account(account, **values):
    """Set columns the nightly steps or the system keep (health band, stage entry), without a writer."""
    Account.all_workspaces.filter(pk=account.pk).update(**values)
    account.refresh_from_db()
