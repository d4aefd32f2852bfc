"""A realistic workspace for the archive tests: the demo's team, book, touches and six months of
usage, plus what the demo leaves out — segments (rules naming stages, owners and tags), a segment's
cadence policy with a rule, a segment scorecard with two versions, sentiment ratings, a tier pin,
contracts (one amended, one deleted: their versions keep the past), an uploaded import, set-aside and unmatched tracking messages — and several weeks of
nightly history, after which a segment that past days counted is deleted."""

import datetime as dt
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Account, ContractVersion, LifecycleStage
from accounts.services import delete_contract, save_contract
from coverage.services import pin_tier, save_cadence_policy
from cs_platform.demo import seed_demo
from cs_platform.management.commands.recompute import days_to_compute
from cs_platform.nightly import run_nightly
from healthscore.models import HealthAlert
from healthscore.selectors import default_scorecard, latest_version
from healthscore.services import rate_sentiment, record_alert_outcome, save_scorecard
from imports.services import create_job
from segments.services import delete_segment, save_segment
from usage.models import DirtyUsageDay, RejectedMessage, UsageEvent
from workspaces.models import Membership


def history_days(workspace):
    """The nights the seed computes: the last three days, weekly points, and 30 days back."""
    return days_to_compute(workspace.today(), days=3, history=True)


def seed_workspace(slug, *, accounts=40, seed=5):
    demo = seed_demo(slug=slug, accounts=accounts, seed=seed)
    ws = demo.workspace
    today = ws.today()
    member = {m.user.username.removeprefix(f"{slug}-"): m
              for m in Membership.objects.for_workspace(ws).select_related("user")}
    manager, csm1 = member["manager1"], member["csm1"]
    stage_ids = {s.name: s.pk for s in LifecycleStage.objects.for_workspace(ws)}
    later_stages = list(stage_ids.values())[2:]

    big = save_segment(workspace=ws, actor=manager, name="Large in later stages", materialize=False, rules={
        "op": "and", "conditions": [{"field": "arr", "op": "gte", "value": 3_000_000},
                                    {"field": "stage", "op": "in", "value": later_stages}]})
    save_segment(workspace=ws, actor=manager, name="Yui's book", materialize=False, rules={
        "op": "or", "conditions": [{"field": "owner", "op": "in", "value": [csm1.pk]},
                                   {"field": "tags", "op": "any", "value": ["VIP"]}]})
    doomed = save_segment(workspace=ws, actor=manager, name="High touch (retired)", materialize=False, rules={
        "op": "and", "conditions": [{"field": "touch_tier", "op": "in", "value": ["high"]}]})
    save_cadence_policy(workspace=ws, actor=manager, segment=big, name="Large accounts", max_gap_days=21,
                        channels=["video_meeting", "onsite_meeting", "phone"], priority=10,
                        rules=[{"name": "Meet a decision maker", "channels": ["video_meeting", "onsite_meeting"],
                                "contact_role": "decision_maker", "max_gap_days": 120}])
    base = latest_version(default_scorecard(workspace=ws)).definition
    card, _v = save_scorecard(workspace=ws, actor=manager, name="Large and high touch", priority=10, tiers=["high"],
                              segments=[big.pk, doomed.pk], definition=base, note="Copied from the default")
    changed = {**base, "bands": {"red": 45, "green": 75}}
    save_scorecard(workspace=ws, actor=manager, scorecard=card, definition=changed, note="Stricter bands")

    book = list(Account.objects.for_workspace(ws).order_by("external_id"))
    for index, account in enumerate(book[:14]):
        rated_at = timezone.now() - dt.timedelta(days=3 + 4 * index)
        rate_sentiment(account=account, actor=manager, rating=1 + index % 5, reasons=["value_seen"], note="QBR",
                       rated_at=rated_at)
    lines = [save_contract(workspace=ws, actor=manager, account=account, external_id=f"C-{account.external_id}",
                           product="Core plan", mrr=Decimal("125000.50"), quantity=12, unit="seats",
                           start_date=today - dt.timedelta(days=200), end_date=today + dt.timedelta(days=165))
             for account in book[:6]]
    # On record for two months, then one amended and one deleted today: past days keep what they said.
    ContractVersion.objects.for_workspace(ws).filter(line__in=lines).update(valid_from=today - dt.timedelta(days=60))
    save_contract(workspace=ws, actor=manager, contract=lines[0], account=lines[0].account, quantity=30,
                  mrr=Decimal("150000"))
    delete_contract(contract=lines[1], actor=manager)
    create_job(workspace=ws, actor=manager, object_type="accounts", upload=SimpleUploadedFile(
        "crm-accounts.csv", b"name,external_id,arr\r\nNew Customer KK,SF-NEW-1,1200000\r\n"))

    UsageEvent.objects.bulk_create([UsageEvent(
        workspace=ws, message_id=f"unmatched-{n}", group_id="acct-unknown", user_id="u-x", event="Logged In",
        occurred_at=timezone.now() - dt.timedelta(hours=n), received_at=timezone.now()) for n in range(3)])
    RejectedMessage.objects.create(workspace=ws, received_at=timezone.now(), message_id="bad-1",
                                   message_type="track", reason="timestamp is not a date", payload={"event": "x"})
    DirtyUsageDay.objects.create(workspace=ws, day=today)

    for day in history_days(ws):
        run_nightly(workspace=ws, as_of=day)

    pin_tier(account=book[5], actor=manager, tier="high", reason="Strategic logo")
    for alert in HealthAlert.objects.for_workspace(ws).order_by("id")[:3]:
        record_alert_outcome(alert=alert, actor=manager, outcome="acted_on", reason="Called the champion")
    delete_segment(segment=doomed, actor=manager)
    return demo
