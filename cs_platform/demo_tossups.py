"""The demo's expansion toss-ups: a year of opportunities the CSMs found and handed to account executives.

Each CSM raises a few per quarter on the bigger accounts of their book (the keen ones more), handed
to account executives named in the CRM; the older ones are mostly decided (won at about their estimate,
or lost with a reason), the recent ones still open, so that the KPI page has a pipeline and a quality
check in every period.
"""

import datetime as dt
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext

from accounts.models import Account, AccountStatus
from expansion.models import OpportunityKind, OpportunityStatus
from expansion.services import create_opportunity
from workspaces.models import Membership, Role

# Account executives as the CRM names them (they are not members of the CS platform).
AE_NAMES = {"ja": ["森 健司", "藤田 彩", "石井 拓也", "岡本 真理"],
            "en": ["Kenji Mori", "Aya Fujita", "Takuya Ishii", "Mari Okamoto"]}
KINDS = [(OpportunityKind.UPSELL, 40), (OpportunityKind.MORE_SEATS, 35), (OpportunityKind.CROSS_SELL, 20),
         (OpportunityKind.OTHER, 5)]
# Toss-ups per quarter of each CSM, in the demo team's order: some CSMs look for expansion more.
PER_QUARTER = [5, 4, 3, 3, 2, 2]


def _notes():
    return {
        OpportunityKind.UPSELL: [gettext("Asked about the Enterprise plan's audit log and SSO."),
                                 gettext("Their usage is at the plan's limit every month.")],
        OpportunityKind.MORE_SEATS: [gettext("A second department wants to start in April."),
                                     gettext("Invited users keep exceeding the licensed seats.")],
        OpportunityKind.CROSS_SELL: [gettext("Interested in the analytics add-on after the review."),
                                     gettext("Asked whether the integration package covers their ERP.")],
        OpportunityKind.OTHER: [gettext("Wants a paid training day for new managers.")],
    }


def _lost_reasons():
    return [gettext("No budget this fiscal year."), gettext("Went with a competitor's module."),
            gettext("Decision postponed to next year.")]


def _pick(rng, pairs):
    total = sum(weight for _value, weight in pairs)
    roll = rng.uniform(0, total)
    for value, weight in pairs:
        roll -= weight
        if roll <= 0:
            return value
    return pairs[-1][0]


def seed_tossups(workspace, rng, today, actor):
    """About a year of toss-ups for the workspace's CSMs; returns how many were logged."""
    csms = list(Membership.objects.for_workspace(workspace).filter(role=Role.CSM, is_active=True)
                .select_related("user").order_by("user__username"))
    books = {}
    for account in (Account.objects.for_workspace(workspace)
                    .filter(owner__in=csms, status=AccountStatus.ACTIVE).order_by("-arr", "pk")):
        books.setdefault(account.owner_id, []).append(account)
    language = workspace.language if workspace.language in AE_NAMES else "en"
    made = 0
    with translation.override(workspace.language):
        notes, lost_reasons = _notes(), _lost_reasons()
        for index, csm in enumerate(csms):
            book = books.get(csm.pk, [])[:25]  # the bigger accounts of the book
            if not book:
                continue
            for quarter in range(4):  # the last twelve months, a quarter (91 days) at a time
                for _n in range(PER_QUARTER[index % len(PER_QUARTER)] + rng.randint(-1, 1)):
                    handed = today - dt.timedelta(days=quarter * 91 + rng.randint(0, 90))
                    made += _toss_up(workspace, rng, today, actor, csm, rng.choice(book), handed, notes,
                                     lost_reasons, AE_NAMES[language])
    return made


def _toss_up(workspace, rng, today, actor, csm, account, handed, notes, lost_reasons, ae_names):
    kind = _pick(rng, KINDS)
    monthly = account.arr / 12
    estimated = max(Decimal(5000), (monthly * Decimal(rng.uniform(0.1, 0.5)) / 1000).quantize(Decimal(1)) * 1000)
    age = (today - handed).days
    # Decided within 3-12 weeks: the older a toss-up, the likelier it is closed.
    decided = age > rng.randint(21, 84)
    if decided:
        status = _pick(rng, [(OpportunityStatus.WON, 45), (OpportunityStatus.LOST, 35),
                             (OpportunityStatus.QUALIFIED, 20)])
    else:
        status = _pick(rng, [(OpportunityStatus.HANDED_OVER, 70), (OpportunityStatus.QUALIFIED, 30)])
    closed_on = won_mrr = None
    lost_reason = ""
    if status in (OpportunityStatus.WON, OpportunityStatus.LOST):
        closed_on = min(today, handed + dt.timedelta(days=rng.randint(21, 84)))
    if status == OpportunityStatus.WON:
        won_mrr = (estimated * Decimal(rng.uniform(0.6, 1.2)) / 1000).quantize(Decimal(1)) * 1000
    if status == OpportunityStatus.LOST:
        lost_reason = rng.choice(lost_reasons)
    create_opportunity(workspace=workspace, actor=actor, account=account, kind=kind, estimated_mrr=estimated,
                       note=rng.choice(notes[kind]), raised_by=csm, handed_to_name=rng.choice(ae_names),
                       handed_over_on=handed, status=status, won_mrr=won_mrr, lost_reason=lost_reason,
                       closed_on=closed_on)
    return 1
