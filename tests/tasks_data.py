"""Tasks for the tests of tasks: made through the model (fast) or the services (audited)."""

import datetime as dt

from playbooks.models import Playbook, PlaybookRun, PlaybookVersion, Task


def make_task(account, assignee, *, days=0, title=None, **fields):
    """A task on `account` for `assignee`, due `days` from the workspace's today."""
    ws = account.workspace
    return Task.objects.create(workspace=ws, account=account, assignee=assignee,
                               title=title or f"Call {account.name}", due_on=ws.today() + dt.timedelta(days=days),
                               **fields)


def playbook_run(account, name="Renewal 120"):
    ws = account.workspace
    playbook = Playbook.objects.create(workspace=ws, name=name, trigger_kind="manual")
    version = PlaybookVersion.objects.create(workspace=ws, playbook=playbook, number=1, definition={})
    return PlaybookRun.objects.create(workspace=ws, playbook=playbook, version=version, account=account,
                                      reason_key="manual:1", started_on=ws.today())
