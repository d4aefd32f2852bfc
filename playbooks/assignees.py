"""Who gets a step's task: the assignee rules of a playbook step (see definition.py).

    owner        the account's owner when an active member; otherwise (no owner, or a deactivated
                 one) the active manager or admin with the fewest open tasks, who can hand it on
    role         the active member of that role with the fewest open tasks (ties: the earliest member)
    round_robin  among the role's active members, the one this playbook has given the fewest tasks
                 (ties: the earliest member): deterministic, so a re-run picks the same member
    fewest_open  among the role's active members, the one with the fewest open tasks now

A `Picker` reads what the rules need in three queries for a whole night and counts the tasks it
hands out itself, so that one night's tasks spread over the team instead of all going to one member.
No member to pick leaves the task unassigned (it shows on the managers' unassigned list).
"""

from collections import Counter

from django.db.models import Count

from workspaces.models import Membership, Role

from .models import OPEN_STATUSES, Task, TaskSource

MANAGER_ROLES = [Role.ADMIN, Role.MANAGER]


class Picker:
    def __init__(self, *, workspace):
        self.workspace = workspace
        members = list(Membership.objects.for_workspace(workspace).filter(is_active=True).order_by("pk")
                       .values_list("pk", "role"))
        self.active = {pk for pk, _role in members}
        self.by_role = {}
        for pk, role in members:
            self.by_role.setdefault(role, []).append(pk)
        self.open = Counter(dict(
            Task.objects.for_workspace(workspace).filter(status__in=OPEN_STATUSES, assignee__isnull=False)
            .order_by().values_list("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n")))
        self._given = {}

    def _given_by(self, playbook_id):
        if playbook_id not in self._given:
            self._given[playbook_id] = Counter(dict(
                Task.objects.for_workspace(self.workspace)
                .filter(source=TaskSource.PLAYBOOK, run__playbook_id=playbook_id, assignee__isnull=False)
                .order_by().values_list("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n")))
        return self._given[playbook_id]

    def _fewest(self, candidates, counts):
        return min(candidates, key=lambda pk: (counts[pk], pk)) if candidates else None

    def pick(self, *, rule, owner_id, playbook_id):
        """The membership id for one task (or None), counted as given."""
        kind = rule.get("rule", "owner")
        if kind == "owner" and owner_id in self.active:
            chosen = owner_id
        elif kind == "owner":
            managers = [pk for role in MANAGER_ROLES for pk in self.by_role.get(role, [])]
            chosen = self._fewest(sorted(managers), self.open)
        elif kind == "round_robin":
            chosen = self._fewest(self.by_role.get(rule.get("role", Role.CSM), []), self._given_by(playbook_id))
        else:  # role, fewest_open
            chosen = self._fewest(self.by_role.get(rule.get("role", Role.CSM), []), self.open)
        if chosen is not None:
            self.open[chosen] += 1
            self._given_by(playbook_id)[chosen] += 1
        return chosen
