"""The demo's onboarding: a sales handoff for every account (complete, except for a few recent
ones, some not even started), and the milestones of the accounts in their first 400 days, done
around their target days, so that accounts stand at every step, some late, and the time to first
value spreads over the monthly cohorts (engaged customers reach it sooner).

Written in bulk, with the days they happened on (a handoff completed a few days before the contract
start), since the services would stamp today on them. Fast: a handful of queries.
"""

import datetime as dt
import random

from django.utils import timezone

from accounts.models import Account, AccountStatus, Contact, ContactRole
from onboarding import selectors
from onboarding.models import AccountMilestone, Handoff
from workspaces.policy import acting_member

HANDOFF_TEXT = {
    "ja": ("手作業の集計に毎週半日かかっていた", "週次レポートを10分で出す・現場の利用率80%", "年間契約・席数は%(seats)s",
           "導入部門に推進担当がいる", "前任ツールへの愛着"),
    "en": ("Weekly reporting took half a day by hand", "Weekly report in 10 minutes; 80 percent of the team active",
           "Annual contract, %(seats)s seats", "A named owner in the rollout team", "Attachment to the former tool"),
}


def seed_onboarding(workspace, rng, today, actor):
    """Handoffs and milestones of the demo's accounts; returns (handoffs, milestones) written. Draws from
    a copy of `rng`, so that the rest of the demo's book is the same with or without this step."""
    rng, source = random.Random(), rng
    rng.setstate(source.getstate())
    Handoff.objects.for_workspace(workspace).delete()
    AccountMilestone.objects.for_workspace(workspace).delete()
    texts = HANDOFF_TEXT["ja" if (workspace.language or "").startswith("ja") else "en"]
    accounts = list(Account.objects.for_workspace(workspace).exclude(contract_start__isnull=True)
                    .values_list("pk", "contract_start", "touch_tier", "licensed_seats", "status"))
    people = {}
    for pk, account_id, role in Contact.objects.for_workspace(workspace).values_list("pk", "account_id", "role"):
        people.setdefault(account_id, {}).setdefault(role, pk)
    member = acting_member(actor)
    handoffs, milestones = [], []
    plans = selectors.plan_by_tier(workspace)
    for pk, start, tier, seats, status in accounts:
        age = (today - start).days
        contacts = people.get(pk, {})
        decision_maker = contacts.get(ContactRole.DECISION_MAKER) or next(iter(contacts.values()), None)
        key_person = contacts.get(ContactRole.CHAMPION)
        completed_on = start - dt.timedelta(days=rng.randint(1, 10))
        handoff = Handoff(workspace=workspace, account_id=pk, why_bought=texts[0], objectives=texts[1],
                          decision_maker_id=decision_maker, key_person_id=key_person,
                          contract_terms=texts[2] % {"seats": seats}, fit_criteria=texts[3], risks=texts[4],
                          completed_at=timezone.make_aware(dt.datetime.combine(completed_on, dt.time(17)),
                                                           workspace.tz),
                          completed_by=member)
        if age < 45 and rng.random() < 0.35:
            if rng.random() < 0.5:
                continue  # sales has not handed over yet
            handoff.objectives, handoff.decision_maker_id, handoff.completed_at = "", None, None
        if decision_maker is None:
            handoff.completed_at = None  # no one to name: incomplete
        handoffs.append(handoff)
        if age < 0 or age > 400 or status != AccountStatus.ACTIVE and age > 200:
            continue
        pace = rng.uniform(0.6, 1.6)  # <1: ahead of the plan, >1: behind
        stalled = rng.random() < 0.15  # stops somewhere: late milestones
        for row in plans.get(tier or "", plans[""]):
            target = start + dt.timedelta(days=row["target_day"])
            done = start + dt.timedelta(days=max(1, round(row["target_day"] * pace + rng.randint(-3, 5))))
            if stalled and target <= today and rng.random() < 0.6:
                break
            if done > today:
                break
            milestones.append(AccountMilestone(workspace=workspace, account_id=pk, key=row["key"], done_on=done,
                                               done_by=member))
    Handoff.objects.bulk_create(handoffs, batch_size=1000)
    AccountMilestone.objects.bulk_create(milestones, batch_size=2000)
    return len(handoffs), len(milestones)
