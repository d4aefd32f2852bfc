"""What of the success capability travels in a workspace archive: the level definitions, plans with
their objectives and full history, and KPT notes. A note names its playbook by id (playbooks sits
above this app): the id is renamed; a playbook the archive no longer had leaves the note without one."""

from workspaces.transfer import Part, Table

from . import services
from .models import KptNote, LevelDefinition, Objective, PlanEvent, SuccessPlan


def _rename_playbook(values, context):
    if values.get("playbook_id"):
        values["playbook_id"] = context.idmap.find("playbooks.Playbook", values["playbook_id"])
    return values


PART = Part("success", [
    Table(LevelDefinition),
    Table(SuccessPlan),
    Table(Objective),
    Table(PlanEvent, keep_ids=False),
    Table(KptNote, into=_rename_playbook),
], defaults=services.ensure_defaults)
