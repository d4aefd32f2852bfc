"""Scoring arithmetic, "not available" renormalisation, not-enough-data and sentiment staleness."""

import datetime as dt

import pytest

from accounts.models import Contact, Touchpoint
from healthscore.definition import apply_rule, default_definition, validate_definition
from healthscore.models import HealthSettings, ScorecardVersion
from healthscore.scoring import compute_scores
from healthscore.selectors import default_scorecard
from healthscore.services import rate_sentiment, save_scorecard
from tests.factories import AccountFactory
from workspaces.errors import DomainError, NotAllowed

from .health_data import add_usage, at_noon, small_definition

pytestmark = pytest.mark.django_db


@pytest.fixture
def small(ws, manager):
    card = default_scorecard(workspace=ws)
    save_scorecard(workspace=ws, actor=manager, scorecard=card, definition=small_definition())
    return card


def five_active_days(account, as_of, users=("a", "b", "c", "d")):
    for back in range(5):
        add_usage(account, as_of - dt.timedelta(days=back), users=users)


def row(ws, account, as_of):
    frame, _signals = compute_scores(workspace=ws, as_of=as_of)
    return frame.loc[account.pk]


def test_rules_by_hand():
    import pandas as pd

    values = pd.Series([0, 0.2, 0.8, 1.5, None])
    assert apply_rule({"type": "linear", "low": 0, "high": 0.8}, values).tolist()[:4] == [0, 25, 100, 100]
    assert pd.isna(apply_rule({"type": "linear", "low": 0, "high": 0.8}, values).iloc[4])
    # Lower is better: 120 days → 0, 14 days → 100.
    assert apply_rule({"type": "linear", "low": 120, "high": 14}, pd.Series([120, 67, 14, 3])).tolist() == [
        0, 50, 100, 100]
    steps = {"type": "thresholds", "direction": "lower", "above": 5,
             "steps": [{"at": 3, "points": 100}, {"at": 7, "points": 80}, {"at": 30, "points": 20}]}
    assert apply_rule(steps, pd.Series([1, 3, 4, 7, 29, 31])).tolist() == [100, 100, 80, 80, 20, 5]


def test_weighted_total_by_hand(ws, csm, account, small):
    as_of = ws.today()
    five_active_days(account, as_of)  # 4 distinct users of 20 seats → 0.2/0.8 → 25 points; 5 days → 40
    rate_sentiment(account=account, actor=csm, rating=4)  # (4-1)/4 → 75 points
    r = row(ws, account, as_of)
    assert r["p:seats"] == 25 and r["p:days"] == 40 and r["p:sentiment"] == 75
    assert r["g:usage"] == pytest.approx((25 * 3 + 40 * 1) / 4)  # 28.75
    assert r["total"] == pytest.approx((28.75 * 60 + 75 * 40) / 100)  # 47.25
    assert r["band"] == "yellow"
    assert r["w:seats"] == pytest.approx(0.45) and r["w:sentiment"] == pytest.approx(0.4)


def test_missing_measure_weight_goes_to_its_group(ws, csm, account, small):
    as_of = ws.today()
    account.licensed_seats = None  # seats unknown: the ratio is not available, not zero
    account.save()
    five_active_days(account, as_of)
    rate_sentiment(account=account, actor=csm, rating=4)
    r = row(ws, account, as_of)
    assert r["v:seats"] != r["v:seats"]  # NaN
    assert r["g:usage"] == 40  # the days measure carries the whole group
    assert r["total"] == pytest.approx((40 * 60 + 75 * 40) / 100)  # 54
    # Data covered 1/4 of usage's weight and all of relationship's: 0.15 + 0.40.
    assert r["available_weight"] == pytest.approx(0.55)


def test_missing_group_weight_goes_to_the_other_groups(ws, account, small):
    as_of = ws.today()
    five_active_days(account, as_of)  # no sentiment at all: relationship is left out
    r = row(ws, account, as_of)
    assert r["g:relationship"] != r["g:relationship"]
    assert r["total"] == pytest.approx(28.75)
    assert r["band"] == "red"
    assert r["available_weight"] == pytest.approx(0.6)


def test_too_little_data_is_not_enough_data_not_red(ws, account, small):
    as_of = ws.today()
    account.licensed_seats = None
    account.save()
    five_active_days(account, as_of)  # only "days active": 15% of the weight
    r = row(ws, account, as_of)
    assert r["total"] != r["total"]
    assert r["band"] == "na"


def test_no_usage_ever_is_not_available_but_silence_after_usage_is_zero(ws, small):
    as_of = ws.today()
    never = AccountFactory(workspace=ws)
    quiet = AccountFactory(workspace=ws)
    add_usage(quiet, as_of - dt.timedelta(days=45))
    frame, _ = compute_scores(workspace=ws, as_of=as_of)
    assert frame.loc[never.pk, "band"] == "na"
    assert frame.loc[quiet.pk, "p:seats"] == 0 and frame.loc[quiet.pk, "p:days"] == 0
    assert frame.loc[quiet.pk, "band"] == "red"


def test_stale_sentiment_is_not_available(ws, csm, account, small):
    HealthSettings.all_workspaces.update_or_create(workspace=ws, defaults={"sentiment_stale_days": 45})
    as_of = ws.today()
    five_active_days(account, as_of)
    rate_sentiment(account=account, actor=csm, rating=5, rated_at=at_noon(account, as_of - dt.timedelta(days=44)))
    assert row(ws, account, as_of)["v:sentiment"] == 5
    assert row(ws, account, as_of + dt.timedelta(days=1))["v:sentiment"] != row(
        ws, account, as_of + dt.timedelta(days=1))["v:sentiment"]
    HealthSettings.all_workspaces.filter(workspace=ws).update(sentiment_stale_days=60)
    assert row(ws, account, as_of + dt.timedelta(days=1))["v:sentiment"] == 5


def test_default_scorecard_relationship_and_commercial_signals(ws, csm, account):
    as_of = ws.today()
    default_scorecard(workspace=ws)
    boss = Contact.all_workspaces.create(workspace=ws, account=account, name="Boss", role="decision_maker")
    key = Contact.all_workspaces.create(workspace=ws, account=account, name="Key", role="champion", is_key_person=True)
    meeting = Touchpoint.all_workspaces.create(workspace=ws, account=account, channel="video_meeting",
                                        occurred_at=at_noon(account, as_of - dt.timedelta(days=10)))
    meeting.contacts.set([boss, key])
    Touchpoint.all_workspaces.create(workspace=ws, account=account, channel="webinar",
                              occurred_at=at_noon(account, as_of - dt.timedelta(days=2)))
    account.renewal_date = as_of + dt.timedelta(days=60)
    account.attributes = {"risk_flags": 2}
    account.save()
    frame, signals = compute_scores(workspace=ws, as_of=as_of)
    r = frame.loc[account.pk]
    assert r["v:last_touch"] == 10  # the webinar is one-to-many: it does not count
    assert signals.loc[account.pk, "days_since_any_touch"] == 2
    assert r["v:key_person"] == 1 and r["v:decision_maker"] == 1
    assert r["v:renewal"] == 60 and r["p:renewal"] == 60
    assert r["band"] == "na" or r["total"] == r["total"]


def test_custom_attribute_measure(ws, manager, account):
    card = default_scorecard(workspace=ws)
    definition = default_definition()
    definition["groups"][2]["measures"].append({
        "key": "risk", "kind": "custom_attribute", "weight": 50, "params": {"attribute": "risk_flags"},
        "rule": {"type": "thresholds", "direction": "lower", "steps": [{"at": 0, "points": 100}, {"at": 1, "points": 50}]},
    })
    save_scorecard(workspace=ws, actor=manager, scorecard=card, definition=definition)
    other = AccountFactory(workspace=ws, attributes={"risk_flags": "n/a"})
    account.attributes = {"risk_flags": True}
    account.save()
    frame, _ = compute_scores(workspace=ws, as_of=ws.today())
    assert frame.loc[account.pk, "p:risk"] == 50
    assert frame.loc[other.pk, "p:risk"] != frame.loc[other.pk, "p:risk"]  # not a number: not available


def test_editing_makes_a_new_immutable_version(ws, manager):
    card = default_scorecard(workspace=ws)
    definition = default_definition()
    save_scorecard(workspace=ws, actor=manager, scorecard=card, definition=definition)
    assert card.versions.count() == 1  # same rules: no new version
    definition["groups"][0]["weight"] = 60
    _card, version = save_scorecard(workspace=ws, actor=manager, scorecard=card, definition=definition, note="more usage")
    assert version.number == 2
    assert ScorecardVersion.all_workspaces.get(scorecard=card, number=1).definition["groups"][0]["weight"] == 50


def test_only_managers_edit_scorecards(ws, csm):
    card = default_scorecard(workspace=ws)
    with pytest.raises(NotAllowed):
        save_scorecard(workspace=ws, actor=csm, scorecard=card, definition=default_definition())


@pytest.mark.parametrize("broken, field", [
    ({"groups": []}, "groups"),
    ({"bands": {"red": 80, "green": 70}}, "bands"),
    ({"groups": [{"key": "u", "weight": 1, "measures": [{"key": "m", "kind": "nope", "weight": 1}]}]},
     "groups[0].measures[0].kind"),
    ({"groups": [{"key": "u", "weight": 1, "measures": [
        {"key": "m", "kind": "days_active_30", "weight": "x", "rule": {"type": "linear", "low": 0, "high": 1}}]}]},
     "groups[0].measures[0].weight"),
    ({"groups": [{"key": "u", "weight": 1, "measures": [
        {"key": "m", "kind": "days_active_30", "weight": 1, "rule": {"type": "linear", "low": 1, "high": 1}}]}]},
     "groups[0].measures[0].rule.high"),
])
def test_invalid_definitions_name_the_field(broken, field):
    definition = default_definition()
    definition.update(broken)
    with pytest.raises(DomainError) as error:
        validate_definition(definition)
    assert error.value.field == field


def test_sentiment_rules(ws, csm, csm2, viewer, account):
    with pytest.raises(NotAllowed):
        rate_sentiment(account=account, actor=csm2, rating=3)  # not their account
    with pytest.raises(NotAllowed):
        rate_sentiment(account=account, actor=viewer, rating=3)
    with pytest.raises(DomainError) as error:
        rate_sentiment(account=account, actor=csm, rating=6)
    assert error.value.field == "rating"
    with pytest.raises(DomainError) as error:
        rate_sentiment(account=account, actor=csm, rating=3, reasons=["made_up"])
    assert error.value.field == "reasons"
    assert rate_sentiment(account=account, actor=csm, rating=2, reasons=["adoption_stalled"]).rating == 2


def test_key_feature_adoption_counts_distinct_key_events(ws, manager, account):
    from healthscore.services import update_settings

    default_scorecard(workspace=ws)
    update_settings(workspace=ws, actor=manager, key_features="report_exported, workflow_created, api_call")
    add_usage(account, ws.today(), users=["a"], events_per_user=3, names=("report_exported", "login", "api_call"))
    frame, _ = compute_scores(workspace=ws, as_of=ws.today())
    assert frame.loc[account.pk, "v:key_features"] == pytest.approx(2 / 3, abs=1e-4)


def test_tier_scorecard_applies_before_the_default(ws, manager, account):
    from healthscore.models import Scorecard

    tech = AccountFactory(workspace=ws, touch_tier="tech")
    card, version = save_scorecard(workspace=ws, actor=manager, name="Tech touch", tiers=["tech"], priority=5,
                                   definition=small_definition())
    frame, _ = compute_scores(workspace=ws, as_of=ws.today())
    assert frame.loc[tech.pk, "version"] == version
    assert frame.loc[account.pk, "version"].scorecard == Scorecard.all_workspaces.get(workspace=ws, is_default=True)
    with pytest.raises(DomainError) as error:
        save_scorecard(workspace=ws, actor=manager, name="Bad", tiers=["platinum"])
    assert error.value.field == "tiers"


def test_segment_scorecard_uses_membership_history(ws, manager, account):
    segments = pytest.importorskip("segments.models")
    segment = segments.Segment.all_workspaces.create(workspace=ws, name="Enterprise")
    segments.SegmentMembershipEvent.all_workspaces.create(workspace=ws, segment=segment, account=account,
                                                   day=ws.today() - dt.timedelta(days=10), kind="entered")
    _card, version = save_scorecard(workspace=ws, actor=manager, name="Enterprise", segments=[segment.pk],
                                    priority=1, definition=small_definition())
    assert compute_scores(workspace=ws, as_of=ws.today())[0].loc[account.pk, "version"] == version
    earlier = compute_scores(workspace=ws, as_of=ws.today() - dt.timedelta(days=11))[0]
    assert earlier.loc[account.pk, "version"] != version  # not a member yet on that day


def test_rollups_stand_in_when_raw_events_were_pruned(ws, manager, account):
    from healthscore.services import update_settings
    from usage.models import UsageEvent

    default_scorecard(workspace=ws)
    update_settings(workspace=ws, actor=manager, key_features=["report_exported"])
    add_usage(account, ws.today() - dt.timedelta(days=3), users=["a", "b", "c"], names=("report_exported",))
    UsageEvent.all_workspaces.all().delete()  # retention removed the raw events; the daily rollup stays
    frame, signals = compute_scores(workspace=ws, as_of=ws.today())
    assert signals.loc[account.pk, "active_users"] == 3
    assert frame.loc[account.pk, "v:key_features"] != frame.loc[account.pk, "v:key_features"]
