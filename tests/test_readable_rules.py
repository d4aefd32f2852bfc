"""Segment rules and scorecard rules read as sentences, not JSON: the builders (English exactly,
Japanese by structure) and the pages that show them."""

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import LifecycleStage
from healthscore.definition import default_definition, describe_rule
from healthscore.selectors import default_scorecard
from segments.describe import describe_condition, describe_rules, rule_names, rules_sentence
from segments.services import save_segment

RULES = {"op": "and", "conditions": [
    {"field": "arr", "op": "gte", "value": 1000000},
    {"field": "touch_tier", "op": "in", "value": ["high"]},
    {"op": "or", "conditions": [
        {"field": "tags", "op": "any", "value": ["enterprise"]},
        {"field": "seats", "op": "between", "value": [11, 20]}]}]}
YEN = {"currency": "JPY"}


def test_a_rule_tree_reads_as_one_sentence():
    assert rules_sentence(RULES, names=YEN) == (
        "ARR ≥ ¥1,000,000 and Touch tier is High touch and (tagged “enterprise” or Seats between 11 and 20)")


def test_a_rule_tree_reads_as_nested_lists():
    assert describe_rules(RULES, names=YEN) == {"heading": "All of:", "items": [
        {"text": "ARR ≥ ¥1,000,000"},
        {"text": "Touch tier is High touch"},
        {"group": {"heading": "Any of:", "items": [
            {"text": "tagged “enterprise”"}, {"text": "Seats between 11 and 20"}]}}]}


@pytest.mark.parametrize("condition, text", [
    ({"field": "status", "op": "in", "value": ["active", "churned"]}, "Status is one of Active, Churned"),
    ({"field": "health_band", "op": "not_in", "value": ["red"]}, "Health band is not Red"),
    ({"field": "tenure_months", "op": "lt", "value": 6}, "Tenure (months) < 6"),
    ({"field": "owner", "op": "is_empty"}, "Owner is empty"),
    ({"field": "seats", "op": "is_not_empty"}, "Seats is set"),
    ({"field": "tags", "op": "none", "value": ["trial", "partner"]}, "tagged none of “trial”, “partner”"),
    ({"field": "tags", "op": "all", "value": ["vip"]}, "tagged all of “vip”"),
    ({"field": "arr", "op": "between", "value": [500000, 1500000]}, "ARR between ¥500,000 and ¥1,500,000"),
])
def test_each_kind_of_condition(condition, text):
    assert describe_condition(condition, names=YEN) == text


def test_empty_rules_match_every_account():
    assert rules_sentence({"op": "and", "conditions": []}) == "Every account"
    assert describe_rules({}) == {"heading": "", "items": [{"text": "Every account"}]}


@pytest.mark.django_db
def test_stages_and_owners_are_named_and_a_deleted_one_says_so(ws, csm):
    stage = LifecycleStage.objects.for_workspace(ws).first()
    names = rule_names(ws)
    rules = {"op": "or", "conditions": [{"field": "stage", "op": "in", "value": [stage.pk, 987654]},
                                        {"field": "owner", "op": "in", "value": [csm.pk]}]}
    assert rules_sentence(rules, names=names) == (
        f"Lifecycle stage is one of {stage.name}, #987654 (deleted) or Owner is {csm.display_name}")


def test_the_sentence_is_built_from_translated_pieces():
    # Every piece, joining words included, comes from the Japanese catalogue; money reads 円 in Japanese.
    with translation.override("ja"):
        sentence = rules_sentence(RULES, names=YEN)
        tree = describe_rules(RULES, names=YEN)
    assert sentence == "ARR ≥ 1,000,000円 かつ タッチモデルがハイタッチ かつ (タグ“enterprise”が付いている または ID数が11〜20)"
    assert "Touch tier" not in sentence and "High touch" not in sentence
    assert sentence.count("(") == 1 and "ID数" in sentence
    assert [list(item) for item in tree["items"]] == [["text"], ["text"], ["group"]]
    with translation.override("en"):
        assert rules_sentence(RULES, names=YEN).startswith("ARR ≥")


def test_scorecard_rules_read_as_sentences():
    rules = {m["key"]: m["rule"] for g in default_definition()["groups"] for m in g["measures"]}
    assert describe_rule(rules["days_active"]) == (
        "≥ 18 → 100 points, ≥ 10 → 70 points, ≥ 4 → 40 points, otherwise 0 points")
    assert describe_rule(rules["last_activity"]) == (
        "≤ 3 → 100 points, ≤ 7 → 80 points, ≤ 14 → 50 points, ≤ 30 → 20 points, otherwise 0 points")
    assert describe_rule(rules["seat_utilisation"]) == (
        "0 or less → 0 points, 0.8 or more → 100 points, in proportion between")
    assert describe_rule(rules["last_touch"]) == (
        "14 or less → 100 points, 120 or more → 0 points, in proportion between")
    assert describe_rule({"type": "thresholds", "direction": "higher", "steps": [{"at": 1.0, "points": 1.0}],
                          "below": 0.5}) == "≥ 1 → 1 point, otherwise 0.5 points"
    # Japanese: the same numbers and arrows in the translated pieces (the words arrive with the catalogue).
    with translation.override("ja"):
        japanese = describe_rule(rules["days_active"])
    assert japanese.count("→") >= 3
    assert all(number in japanese for number in ("18", "100", "10", "70", "4", "40"))


@pytest.mark.django_db
def test_segment_pages_show_the_rules_in_words(login, manager, ws):
    segment = save_segment(workspace=ws, actor=manager, name="Big high touch", rules=RULES)
    client = login(manager)
    listing = client.get(reverse("segments:list")).content.decode()
    assert "ARR ≥ ¥1,000,000 and Touch tier is High touch and (tagged “enterprise” or Seats between 11 and 20)" \
        in listing.replace("&ldquo;", "“").replace("&rdquo;", "”")
    detail = client.get(reverse("segments:detail", args=[segment.pk])).content.decode()
    assert '"conditions"' not in detail and "rules-json" not in detail
    assert "All of:" in detail and "Any of:" in detail and "Seats between 11 and 20" in detail
    assert detail.index("Any of:") > detail.index("Touch tier is High touch")


@pytest.mark.django_db
def test_scorecard_page_shows_rules_as_sentences(login, manager, ws):
    card = default_scorecard(workspace=ws)
    page = login(manager).get(reverse("health:scorecard", args=[card.pk])).content.decode()
    assert "≥ 18 → 100 points, ≥ 10 → 70 points, ≥ 4 → 40 points, otherwise 0 points" in page
    assert "steps:" not in page and "linear:" not in page
