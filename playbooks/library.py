"""The default library: the playbooks every new workspace starts with, all editable.

Names, descriptions and step titles are translated when they are written (provisioning runs in
the workspace's language), so a Japanese workspace gets Japanese playbooks; afterwards they are the
workspace's own rows. Titles use the definition's placeholders ({account}, {renewal_date}…), which
the engine fills in for each account.

Which are enabled from the start: the ones that answer a risk or a date the team must not miss and
that few accounts match on a given day (renewal at 120 days, a champion who left, red health, broken
high-touch coverage). The schedules, onboarding and the silent check-in are off: on a new workspace
(or right after the first import) they match most of the book at once and would flood every CSM's
list; a manager turns them on when the book is ready.
"""

from django.utils.translation import gettext as _
from django.utils.translation import pgettext


def _task(day, title, *, description="", type="call", priority=2, due_days=7, start="enrolment"):
    return {"kind": "task", "day": day, "from": start, "due_days": due_days, "assignee": {"rule": "owner"},
            "type": type, "priority": priority, "title": title, "description": description}


def library():
    """[{"library_key", "name", "description", "enabled", "definition"}] in the active language."""
    return [
        {
            "library_key": "onboarding",
            "name": _("Onboarding"),
            "description": _("From kickoff to the first report card, for every new account."),
            "enabled": False,
            "definition": {
                "trigger": {"kind": "new_account", "within_days": 14},
                "enrolment": {"limit": "once_ever"},
                "steps": [
                    _task(0, _("Kickoff meeting with {account}"), type="meeting", priority=3, due_days=7,
                          description=_("Agree on goals, people and the onboarding plan.")),
                    _task(0, _("Hearing sheet for {account}"), type="review", start="previous", due_days=7,
                          description=_("Write down their goals, current tools, users and success criteria.")),
                    _task(7, _("Operational design with {account}"), type="meeting", start="previous", due_days=14,
                          description=_("Decide how they will use the product day to day: who, what, when.")),
                    _task(14, _("Confirm the first success of {account}"), start="previous", due_days=14,
                          description=_("Check that the first goal agreed at kickoff is reached.")),
                    _task(30, _("Report card for {account}"), type="review", start="previous", due_days=14,
                          description=_("Share results against the goals; plan the next quarter.")),
                ],
                "exit": {"open_tasks": "keep"},
            },
        },
        {
            "library_key": "renewal_120",
            "name": _("Renewal at 120 days"),
            "description": _("Prepare every renewal four months ahead."),
            "enabled": True,
            "definition": {
                "trigger": {"kind": "renewal_within", "days": 120},
                "steps": [
                    _task(0, _("Renewal review for {account}"), type="review", priority=3, due_days=7,
                          description=_("Renews on {renewal_date}. Health: {health_score}. {health_reason}")),
                    _task(0, _("Renewal call with {account}"), start="previous", priority=3, due_days=14,
                          description=_("Confirm the renewal on {renewal_date} and any change of plan.")),
                    _task(30, _("Renewal proposal for {account}"), type="email", start="previous", due_days=14),
                ],
                "exit": {"when_trigger_clears": False, "open_tasks": "keep"},
            },
        },
        {
            "library_key": "quarterly_call",
            "name": _("Quarterly phone follow-up"),
            "description": _("A call with every account every 90 days."),
            "enabled": False,
            "definition": {
                "trigger": {"kind": "schedule", "every_days": 90},
                "steps": [_task(0, _("Quarterly call with {account}"), due_days=14)],
            },
        },
        {
            "library_key": "semiannual_decision_maker",
            "name": _("Semi-annual decision-maker meeting"),
            "description": _("Meet the customer's decision maker every 180 days."),
            "enabled": False,
            "definition": {
                "trigger": {"kind": "schedule", "every_days": 180},
                "steps": [_task(0, _("Decision-maker meeting with {account}"), type="meeting", priority=3,
                                due_days=30,
                                description=_("Review the results and the plans with their decision maker."))],
            },
        },
        {
            "library_key": "champion_left",
            "name": pgettext("playbook", "Champion left"),
            "description": _("A key contact left: widen the circle and onboard the new person."),
            "enabled": True,
            "definition": {
                "trigger": {"kind": "key_contact_left", "within_days": 30},
                "steps": [
                    _task(0, _("Find the new champion at {account}"), priority=3, due_days=7,
                          description=_("Ask who takes over, and meet more people than one.")),
                    _task(0, _("Onboard the new champion at {account}"), type="meeting", start="previous",
                          priority=3, due_days=14),
                ],
                "exit": {"open_tasks": "keep"},
            },
        },
        {
            "library_key": "red_rescue",
            "name": _("Red rescue"),
            "description": _("Health turned red: find out why and agree on a plan."),
            "enabled": True,
            "definition": {
                "trigger": {"kind": "health_red"},
                "enrolment": {"limit": "once_per_reason", "cooldown_days": 30},
                "steps": [
                    _task(0, _("Find out why {account} is red"), type="review", priority=4, due_days=3,
                          description=_("Health: {health_score}. {health_reason}")),
                    _task(0, _("Rescue call with {account}"), start="previous", priority=4, due_days=7),
                ],
                "exit": {"when_trigger_clears": True, "open_tasks": "cancel"},
            },
        },
        {
            "library_key": "coverage_broken_high",
            "name": _("High-touch coverage broken"),
            "description": _("A high-touch account has gone too long without a touch."),
            "enabled": True,
            "definition": {
                "trigger": {"kind": "coverage_broken", "tiers": ["high"]},
                "steps": [_task(0, _("Get back in touch with {account}"), priority=3, due_days=5)],
                "exit": {"when_trigger_clears": True, "open_tasks": "cancel"},
            },
        },
        {
            "library_key": "silent_check_in",
            "name": _("Proactive check-in for silent accounts"),
            "description": _("No touch for a while and usage falling: check in before they drift away."),
            "enabled": False,
            "definition": {
                "trigger": {"kind": "silent", "days": 60, "drop": 0.3},
                "enrolment": {"limit": "once_per_reason", "cooldown_days": 60},
                "steps": [_task(0, _("Check in with {account}"), priority=3, due_days=7,
                                description=_("No touch for a while and their usage is falling."))],
                "exit": {"when_trigger_clears": True, "open_tasks": "cancel"},
            },
        },
    ]
