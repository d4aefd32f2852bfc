"""Who may do what: one question, asked the same way by every service, page and API view.

    authorize(actor, "accounts.delete", account)   # raises NotAllowed (403) unless allowed
    allows(actor, "health.backtest")                # the same answer as a bool, e.g. to show a button

Services call `authorize` first, with the actor that asked:
- a `Membership`: a person, whose role in the workspace decides. When the person acts through an
  API token, the membership carries the token (`membership.api_token`), so the audit names it;
- a `SystemActor`: work that nobody typed — the nightly pipeline, rules, commands, the demo. It is
  allowed everything, and is always explicit: there is no "no actor".

The rules are a table: each action names the role test it needs and the message a refused member
reads. Role tests take the member and, where the answer depends on it, the object of the action.
"""

from django.utils.translation import gettext_lazy as _

from .errors import NotAllowed
from .models import Membership


class SystemActor:
    """Work done by the platform itself. `name` is what the audit log shows, e.g. "nightly"."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"SystemActor({self.name!r})"

    def __str__(self):
        return self.name


SYSTEM = SystemActor("system")


# --- role tests: (member, object of the action or None) -> bool ------------------------------------
def anyone(member, obj):
    return True


def editor(member, obj):
    return member.can_edit


def manager(member, obj):
    return member.is_manager


def admin(member, obj):
    return member.is_admin


def touch_logger(member, obj):
    return member.can_log_touchpoints


def account_editor(member, account):
    """Managers edit every account; a CSM the accounts they own."""
    return member.can_edit_account(account)


def account_creator(member, account):
    """Managers create any account; a CSM creates accounts that they own."""
    return member.is_manager or (member.can_edit and account is not None and account.owner_id == member.pk)


def child_editor(member, child):
    """Contacts and contracts follow their account."""
    return member.can_edit_account(child.account)


def touchpoint_deleter(member, touchpoint):
    return member.is_manager or (member.can_log_touchpoints and touchpoint.author_id == member.pk)


def token_owner_or_admin(member, token):
    return member.is_admin or token.membership_id == member.pk


def task_editor(member, task):
    """Managers every task; a CSM the tasks assigned to them or on the accounts they own."""
    return member.is_manager or (member.can_edit and (
        task.assignee_id == member.pk or task.account.owner_id == member.pk))


def opportunity_editor(member, opportunity):
    """Managers every toss-up; a CSM the ones they raised. (A CRM syncs with an integration token, a
    manager's: a token acts as its member, as everywhere.)"""
    return member.is_manager or (member.can_edit and opportunity.raised_by_id == member.pk)


def plan_editor(member, obj):
    """Success plans follow their account: a plan, one of its objectives, or the account itself."""
    name = obj._meta.model_name
    if name == "objective":
        obj = obj.plan
    return member.can_edit_account(obj.account if name in ("objective", "successplan") else obj)


def note_editor(member, note):
    """KPT notes: their author or a manager."""
    return member.is_manager or note.author_id == member.pk


RULES = {
    # action: (role test, message for a refused member, form/API field the refusal is about)
    "members.manage": (admin, _("Only a workspace admin manages members."), None),
    "tokens.revoke": (token_owner_or_admin, _("Only the token's owner or an admin can revoke it."), None),
    # Managers too: CS leaders answer for the team's book and its health model ("who reassigned this
    # account, who changed the scorecard, who dismissed that alert?"), and the log shows them nothing
    # their pages do not; it is an oversight tool, so CSMs and viewers do not watch their peers.
    "audit.view": (manager, _("Only managers and admins see the audit log."), None),
    "accounts.create": (account_creator, _("A CSM creates accounts that they own."), "owner"),
    "accounts.change": (account_editor, _("Your role does not allow editing this account."), None),
    "accounts.reassign": (manager, _("Only a manager or admin can reassign an account."), "owner"),
    "accounts.delete": (manager, _("Only a manager or admin can delete accounts."), None),
    "accounts.change_child": (child_editor, _("Your role only allows this on accounts you own."), "account"),
    "accounts.manage_stages": (manager, _("Only a manager or admin changes lifecycle stages."), None),
    "accounts.manage_churn_reasons": (manager, _("Only a manager or admin changes churn reasons."), None),
    "touchpoints.log": (touch_logger, _("Your role does not allow logging touchpoints."), None),
    "touchpoints.log_for_others": (manager, _("Only a manager or admin can log a touchpoint for someone else."),
                                   "author"),
    "touchpoints.change": (touch_logger, _("Your role does not allow changing touchpoints."), None),
    "touchpoints.delete": (touchpoint_deleter, _("Only the author, a manager or an admin can delete a touchpoint."),
                           None),
    "imports.accounts": (manager, _("Your role does not allow importing accounts."), "object_type"),
    "imports.contacts": (manager, _("Your role does not allow importing contacts."), "object_type"),
    "imports.contracts": (manager, _("Your role does not allow importing contracts."), "object_type"),
    "imports.touchpoints": (touch_logger, _("Your role does not allow importing touchpoints."), "object_type"),
    "usage.view_settings": (manager, _("Only managers and admins see the usage data settings."), None),
    "usage.import_history": (manager, _("Only managers and admins load usage history."), None),
    "usage.manage": (admin, _("Only a workspace admin manages write keys and usage settings."), None),
    "segments.manage": (manager, _("Only managers change segments."), None),
    "coverage.manage": (manager, _("Only managers change tiers and cadence policies."), None),
    "coverage.see_any_due_list": (manager, _("Only managers look at another member's due list."), "owner"),
    "pipeline.recompute": (manager, _("Only managers start a recomputation."), None),
    "health.manage": (manager, _("Only managers change health settings and scorecards."), None),
    "health.backtest": (manager, _("Only managers run the back-test."), None),
    "health.see_any_alerts": (manager, _("Only managers look at another member's alerts."), "owner"),
    "health.rate_sentiment": (account_editor, _("Only the account's CSM or a manager rates its sentiment."),
                              "rating"),
    "tasks.create": (task_editor, _("A CSM creates tasks for themselves or on the accounts they own."), "account"),
    "tasks.change": (task_editor, _("Only the task's assignee, the account's CSM or a manager changes this task."),
                     None),
    "tasks.see_any": (manager, _("Only managers look at another member's tasks."), "assignee"),
    "playbooks.manage": (manager, _("Only managers design playbooks."), None),
    "playbooks.enrol": (account_editor, _("Only the account's CSM or a manager starts a playbook on it."),
                        "accounts"),
    # Revenue figures (MRR, NRR, churn by CSM) are the team's numbers: managers and admins read them.
    "revenue.view": (manager, _("Only managers and admins see the revenue reports."), None),
    "webhooks.manage": (admin, _("Only a workspace admin manages webhooks."), None),
    "renewals.record": (child_editor, _("Only the account's CSM or a manager records a renewal's outcome."),
                        "line"),
    "opportunities.create": (child_editor, _("A CSM logs toss-ups on the accounts they own."), "account"),
    "opportunities.change": (opportunity_editor, _("Only the CSM who raised this toss-up or a manager changes it."),
                             None),
    "opportunities.delete": (opportunity_editor, _("Only the CSM who raised this toss-up or a manager deletes it."),
                             None),
    "opportunities.credit_others": (manager, _("Only a manager credits a toss-up to another member."), "raised_by"),
    "programmes.manage": (manager, _("Only managers manage programmes and their sessions."), None),
    "programmes.import_attendance": (manager, _("Only managers (or their API tokens) import attendance."), None),
    "health.record_outcome": (child_editor, _("Only the account's CSM or a manager records what happened."),
                              "outcome"),
    "voice.file_request": (editor, _("Your role does not allow filing feature requests."), None),
    "voice.manage_requests": (manager, _("Only managers change, merge or delete feature requests."), None),
    "voice.add_evidence": (account_editor, _("Only the account's CSM or a manager adds evidence from it."), "account"),
    "voice.remove_evidence": (child_editor, _("Only the account's CSM or a manager removes its evidence."), None),
    "voice.record_responses": (manager, _("Only managers record survey responses."), None),
    "lifecycle.manage_levels": (manager, _("Only managers change the usage levels."), None),
    "success.edit_plan": (plan_editor, _("Only the account's CSM or a manager edits its success plan."), None),
    "success.approve_plan": (manager, _("Only a manager approves a success plan or requests changes."), None),
    "success.manage_levels": (manager, _("Only managers write the level definitions."), None),
    "success.write_kpt": (anyone, _("Your role does not allow writing KPT notes."), None),
    "success.change_kpt": (note_editor, _("Only the note's author or a manager changes it."), None),
    "onboarding.edit_handoff": (account_editor, _("Only the account's CSM or a manager edits its handoff."),
                                "account"),
    "onboarding.record_milestone": (account_editor,
                                    _("Only the account's CSM or a manager records its onboarding milestones."),
                                    "account"),
    "onboarding.manage": (manager, _("Only managers change the onboarding settings and milestone plan."), None),
    "onboarding.see_team": (manager, _("Only managers see the team's onboarding lists and report."), None),
    "onboarding.import": (manager, _("Only managers (or their API tokens) import handoffs and milestones."), None),
}


# The role a member needs before the object of an object-level rule is known (e.g. a CSM may edit
# some accounts, a viewer none): what the page and API bases check before they read the request.
ROLE_BEFORE_OBJECT = {
    account_editor: editor,
    account_creator: editor,
    child_editor: editor,
    touchpoint_deleter: touch_logger,
    token_owner_or_admin: anyone,
    task_editor: editor,
    opportunity_editor: editor,
    plan_editor: editor,
    note_editor: anyone,
}


def needs_object(action):
    """Whether the answer for `action` depends on the object (whose account, whose token…)."""
    return RULES[action][0] in ROLE_BEFORE_OBJECT


def authorize_role(actor, action):
    """Refuse `actor` early when no object could make `action` allowed: the check the page and API
    bases run before the object is looked up or the request body read. `authorize` with the object
    still decides; for an action that needs no object this is the same question."""
    if isinstance(actor, SystemActor) or not needs_object(action):
        return authorize(actor, action)
    if not isinstance(actor, Membership):
        raise TypeError(f"An actor is a Membership or a SystemActor, not {actor!r}.")
    test, message, field = RULES[action]
    if not actor.is_active or not ROLE_BEFORE_OBJECT[test](actor, None):
        raise NotAllowed(str(message), field=field)


def acting_member(actor):
    """The member behind `actor`, for "created by"-like columns; None for the platform itself."""
    return actor if isinstance(actor, Membership) else None


def authorize(actor, action, obj=None):
    """Return if `actor` may do `action` (on `obj`); raise NotAllowed otherwise."""
    if isinstance(actor, SystemActor):
        return
    if not isinstance(actor, Membership):
        raise TypeError(f"An actor is a Membership or a SystemActor, not {actor!r}.")
    test, message, field = RULES[action]
    if obj is not None and getattr(obj, "workspace_id", actor.workspace_id) != actor.workspace_id:
        raise NotAllowed(_("Not found in this workspace."))
    if not actor.is_active or not test(actor, obj):
        raise NotAllowed(str(message), field=field)


def allows(actor, action, obj=None):
    try:
        authorize(actor, action, obj)
    except NotAllowed:
        return False
    return True
