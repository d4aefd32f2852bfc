"""Japanese first: with Japanese chosen, every page an admin, a manager or a CSM opens is Japanese.

A small, realistic workspace — the demo's book at a small size, in a deployment whose language is
Japanese (so the defaults it stores, stages, cadence policies, scorecard groups, are Japanese too),
its people and customers renamed in Japanese — then every page of the site, with the browser asking
for Japanese. The visible text of each page, and the attributes a user meets (placeholder, title,
aria-label, alt, a button's value), must hold no Latin word but proper names and codes: the data's
own values, identifiers, and the short list below. Any other English word is a string someone forgot
to translate; the failure lists each page and its words.

Every URL pattern of the site is either visited here or named in NOT_PAGES with the reason, so that
a page added later is checked too (or the test says it was forgotten).
"""

import datetime as dt
import json
import re
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import Account, ChurnReasonCategory, Contact, Contract, LifecycleStage, Tag, Touchpoint
from coverage.models import CadencePolicy
from cs_platform.demo import seed_demo
from cs_platform.nightly import run_nightly
from cs_platform.provisioning import create_workspace
from expansion.models import Opportunity
from healthscore.models import HealthAlert, Scorecard, week_of
from imports.models import ImportJob
from onboarding.models import MilestoneTemplate
from playbooks.models import Playbook, Task
from playbooks.tasks import complete_task, create_task
from programmes.models import Programme, ProgrammeSession
from segments.models import Segment
from segments.services import save_segment
from success.models import KptNote, SuccessPlan
from usage.models import MAPPABLE_ACCOUNT_FIELDS, UsageEvent, WriteKey
from voice.models import FeatureRequest, FeatureRequestEvidence, SurveyResponse
from webhooks.models import Delivery, Endpoint
from workspaces.models import ApiToken, AuditEvent, Membership, Role
from workspaces.policy import SystemActor
from workspaces.services import create_user_with_membership, invite_member

from .imports_helpers import csv_bytes

pytestmark = pytest.mark.django_db

JA = {"HTTP_ACCEPT_LANGUAGE": "ja"}

# Latin words a Japanese page may show: proper names and codes, which Japanese pages write in Latin
# letters too. A word belongs here only if a Japanese CS team writes it so.
ALLOWED = {
    # File formats, encodings and protocols, named so on every Japanese site.
    "CSV", "XLSX", "xlsx", "JSON", "NDJSON", "ISO", "API", "URL", "HTTP", "SDK", "UTF", "Shift", "JIS",  # "Shift_JIS", "UTF-8"
    # Outbound webhooks: the word Japanese teams use ("Webhook"), the protocol and the signature's name.
    "Webhook", "HTTPS", "HMAC",
    # The field's abbreviations, used as such in Japanese CS teams (see the product brief), and the
    # back-test's statistic.
    "ARR", "MRR", "NRR", "GRR", "CSM", "CS", "KPI", "NPS", "CSAT", "ID", "CRM", "AUC",
    # The retrospective the field's teams run, named in English even in Japanese ("Keep(継続)、
    # Problem(問題点)、Try…" in the field reports).
    "KPT", "Keep", "Problem", "Try",
    # Time to first value, abbreviated so in the field as in English.
    "TTV",
    # The segment editor's logic, named as in the query languages ("すべて満たす（AND）").
    "AND", "OR",
    # The segment rules' JSON keys, which its error messages name ("グループの op は…").
    "op", "conditions",
    # Units: percentage points ("+2.5pt") are written so in Japanese business writing.
    "pt",
    # Products, companies and languages the pages name (integrations, spreadsheets, SDK samples).
    "Segment", "RudderStack", "Salesforce", "HubSpot", "Excel", "REST", "Python", "JavaScript", "curl",
    # The tracking API's calls (Segment's spec), named in code on the usage settings page, and the
    # field a history file's rejected row names ("timestamp は ISO 8601 の日時ではありません").
    "track", "identify", "group", "timestamp",
    # The language switcher names each language in itself, so that someone who cannot read the
    # current one still finds their own.
    "English",
}

# Proper names written as phrases: the product's own name.
PROPER_NAMES = ["CS Platform"]

# URL names that are not pages a person opens: actions that only take a POST (their forms are on
# pages checked here), downloads, data for scripts, the invitation's page (checked signed out).
NOT_PAGES = {
    "logout", "recompute", "workspaces:switch", "health:settings", "health:scorecard_new", "health:alert_outcome",
    "health:rate_sentiment", "accounts:log_touchpoint", "coverage:policy_delete", "coverage:pin",
    "segments:delete", "segments:recompute_segment", "segments:preview", "segments:add_account",
    "segments:remove_account", "workspaces:invite",
    "workspaces:invitation_revoke", "workspaces:member_role", "workspaces:member_deactivate",
    "workspaces:member_reactivate", "workspaces:member_unlock", "workspaces:token_revoke",
    "audit_log_export", "imports:export", "playbook_report:export", "playbook_report:export_csm",  # file downloads
    "revenue:export_movements", "revenue:export_breakdown",
    "imports:progress",  # JSON for the progress bar
    "set_language", "workspaces:language",  # POST only: the language switchers
    "favicon",  # a redirect to the icon
    "playbooks:preview", "playbooks:enrol", "playbooks:enabled", "playbooks:delete", "playbooks:end_run",
    "login", "workspaces:join",  # signed out: test_signed_out_pages_and_not_found_are_japanese
    "webhooks:rotate_secret", "webhooks:enable", "webhooks:ping", "webhooks:delete", "webhooks:retry",
    "tasks:cancel", "tasks:reopen", "tasks:bulk_reassign",  # POST only: buttons of the task pages
    "renewals:export",  # a file download
    "expansion:export",  # a file download
    "voice:export",  # a file download
    "voice:request_edit", "voice:request_merge", "voice:request_delete", "voice:evidence_remove",  # POST only
    "programmes:delete", "programmes:session_create", "programmes:import",  # POST only: forms of programme pages
    "programmes:export", "programmes:effect_export",  # file downloads
    "lifecycle:stages_export", "lifecycle:stuck_export", "lifecycle:churn_export", "lifecycle:tenure_export",  # files
    "onboarding:milestone_done", "onboarding:template_delete",  # POST only: forms of the onboarding pages
    "onboarding:report_export",  # a file download
    "health:suggest_weights", "health:accept_weights",  # POST only: the back-test's suggestion and its acceptance
    "success:create", "success:summary", "success:add_objective", "success:submit", "success:comment",  # POST only:
    "success:approve", "success:request_changes", "success:objective", "success:objective_delete",  # plan buttons
    "success:export",  # a file download
}
# The API and its documentation (third-party viewers), the usage tracking endpoints (scripts), and
# Django's admin (which has its own Japanese).
NOT_PAGE_PREFIXES = ("api/", "admin/", "v1/")

WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]+")
# Identifiers are codes: snake_case, camelCase, with digits, dotted names ("segment.created").
IDENTIFIER = re.compile(r"_|\d|[a-z][A-Z]")
# Codes written inline: dotted names ("segment.created"), package names ("rudder-sdk-python",
# "@segment/analytics-node"), JSON ({"nps": 42}), query strings ("?status=active&owner=3"), quoted
# literals ("and", 'xor') and the JSON paths of segment rules and playbook definitions ("rules.conditions[0]:").
DOTTED_CODE = re.compile(r"(?<!\S)[a-z_]{2,}(?:\.[a-z_]{2,})+(?!\S)")
INLINE_CODE = re.compile(r"\b[a-z_]{2,}\.[a-z_]{2,}\b|@?[a-z]+(?:[-/][a-z]+)+|\{[^{}]*\}|\?[a-z_]+=\S*"
                         r"|\"[A-Za-z_]+\"|'[A-Za-z_]+'|\brules(?:\.[a-z_]+|\[\d+\])*:"
                         # A playbook definition's JSON paths ("steps[1].title:").
                         r"|\b(?:trigger|condition|enrolment|steps|exit)(?:\.[a-z_]+|\[\d+\])*:")
SHOWN_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}
# Code samples, configuration and what a user typed are not the interface's words.
CODE_TAGS = {"script", "style", "template", "pre", "code", "textarea"}


class VisibleText(HTMLParser):
    """The text a user reads on a page: text outside code, and the attributes shown."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self._code = 0

    def handle_starttag(self, tag, attrs):
        if tag in CODE_TAGS:
            self._code += 1
        attrs = dict(attrs)
        self.parts += [attrs[name] for name in SHOWN_ATTRIBUTES if attrs.get(name)]
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in CODE_TAGS and self._code:
            self._code -= 1

    def handle_data(self, data):
        if not self._code:
            self.parts.append(data)


def visible_text(html):
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def english_words(html, data=()):
    """The Latin words of the page's visible text, less the data's values, identifiers and ALLOWED."""
    text = visible_text(html)
    # Whole dotted codes first (the audit's actions, "renewal.recorded"): a data value inside one
    # ("renewal", a scorecard's key) must not break the code into words.
    text = DOTTED_CODE.sub(" ", text)
    for value in sorted([*data, *PROPER_NAMES], key=len, reverse=True):  # an e-mail before its user name
        text = text.replace(value, " ")
    text = INLINE_CODE.sub(" ", text)
    return sorted({w for w in WORD.findall(text) if w not in ALLOWED and not IDENTIFIER.search(w)})


def url_names(resolver=None, namespace="", prefix=""):
    """Every named URL pattern of the site: ('namespace:name', route)."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_names(pattern, inner, route)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name, route


def signed_in(client, ws, username):
    member = Membership.objects.for_workspace(ws).get(user__username=f"{ws.slug}-{username}")
    client.force_login(member.user)
    session = client.session
    session["workspace_id"] = ws.pk
    session.save()
    return client


FAMILY = ["田中", "鈴木", "佐藤", "高橋", "渡辺", "伊藤", "山本", "中村", "小林", "加藤", "吉田", "山田"]
GIVEN = ["愛子", "陽翔", "恵美", "結衣", "蓮", "美桜", "大輔", "さくら", "海斗", "希"]


@pytest.fixture
def nihon(settings, tmp_path, django_capture_on_commit_callbacks):
    """The demo's book, small, in a Japanese deployment, with a segment, three nights computed, a
    pending invitation and two import jobs (one checked with an error, one waiting for its mapping)."""
    settings.LANGUAGE_CODE = "ja"
    settings.MEDIA_ROOT = tmp_path
    ws = seed_demo(slug="nihon", accounts=24, seed=5, name="日本CSチーム").workspace
    # The demo's names are romanised; a Japanese team's are not (and English-looking names would
    # hide English words).
    for i, membership in enumerate(Membership.objects.for_workspace(ws).select_related("user")):
        user = membership.user
        user.first_name, user.last_name = GIVEN[i % len(GIVEN)], FAMILY[i % len(FAMILY)]
        user.save(update_fields=["first_name", "last_name"])
    for i, account in enumerate(Account.objects.for_workspace(ws).order_by("pk")):
        account.name = f"株式会社{FAMILY[i % len(FAMILY)]}{['物流', '食品', '医療', '商事'][i % 4]}{i}"
        account.plan = ["ライト", "スタンダード", "ビジネス", "エンタープライズ"][i % 4]
        account.save(update_fields=["name", "plan"])
    for i, contact in enumerate(Contact.objects.for_workspace(ws).order_by("pk")):
        contact.name = f"{FAMILY[(i + 3) % len(FAMILY)]} {GIVEN[i % len(GIVEN)]}"
        contact.title = ["情報システム部長", "営業企画", "代表取締役"][i % 3]
        contact.save(update_fields=["name", "title"])
    Touchpoint.objects.for_workspace(ws).update(summary="定例の打ち合わせ。活用状況を確認。")
    for i, tag in enumerate(Tag.objects.for_workspace(ws).order_by("pk")):
        tag.name = ["重要顧客", "試験導入", "代理店", "複数部門"][i % 4]
        tag.save(update_fields=["name"])

    manager = Membership.objects.for_workspace(ws).get(user__username="nihon-manager1")
    save_segment(workspace=ws, actor=manager, name="大口顧客", description="年間契約金額1,000万円以上",
                 rules={"op": "and", "conditions": [{"field": "arr", "op": "gte", "value": 10_000_000}]})
    today = ws.today()
    for back in (2, 1, 0):  # a few nights, so that trends and alerts have a past
        run_nightly(workspace=ws, as_of=today - dt.timedelta(days=back))
    # The alert pages need rows to show: the nights open some when an account turns red, and the demo's
    # CSMs work their playbook tasks, so a book this small may have none; one is opened as the night would.
    biggest = Account.objects.for_workspace(ws).filter(owner__isnull=False, status="active").order_by("-arr").first()
    HealthAlert.objects.for_workspace(ws).get_or_create(
        workspace=ws, account=biggest, kind="entered_red", reason="usage", status="open", defaults={
            "owner": biggest.owner, "opened_on": today, "last_seen_on": today, "score": 31.0, "previous_score": 52.0,
            "drop": 21.0, "arr_at_risk": biggest.arr, "pushed": True, "week": week_of(today)})
    admin = Membership.objects.for_workspace(ws).get(user__username="nihon-admin")
    invite_member(workspace=ws, email="newcomer@nihon.example.jp", role=Role.CSM, actor=admin)
    # Tasks: an overdue call of the CSM's on their biggest account (My book, the panel), one done.
    mine = Account.objects.for_workspace(ws).filter(owner__isnull=False, status="active").order_by("-arr").first()
    csm1 = mine.owner
    call = create_task(workspace=ws, actor=csm1, account=mine, title="更新前のヒアリング", type="call",
                       due_on=today - dt.timedelta(days=2))
    complete_task(task=create_task(workspace=ws, actor=csm1, account=mine, title="利用状況の確認",
                                   due_on=today - dt.timedelta(days=1)), actor=csm1, outcome="問題なし")
    assert call.is_open

    # A webhook that kept failing (disabled, with its reason) and one that works, with their logs.
    failing = Endpoint.all_workspaces.create(workspace=ws, url="https://hooks.nihon.example.jp/cs", events=["alert.opened"],
                                             description="通知の中継", enabled=False, consecutive_failures=5,
                                             disabled_reason="5件の配信が連続で失敗したため無効にしました。最後のエラー: HTTP 500")
    working = Endpoint.all_workspaces.create(workspace=ws, url="https://crm.nihon.example.jp/in", events=["account.churned"])
    for endpoint, status, code in ((failing, "gave_up", 500), (working, "delivered", 200), (working, "failed", 503)):
        Delivery.all_workspaces.create(workspace=ws, endpoint=endpoint, event=endpoint.events[0], status=status, attempts=1,
                                       last_status_code=code, last_error="" if code == 200 else f"HTTP {code}",
                                       next_attempt_at=timezone.now() if status == "failed" else None)

    uploader = signed_in(Client(), ws, "manager1")
    data = csv_bytes([["会社名", "顧客ID", "年間契約金額"], ["株式会社うめ", "u-1", "1,000"], ["株式会社もも", "m-1", "abc"]])
    for name in ("取引先.csv", "取引先2.csv"):
        uploader.post(reverse("imports:index"), {"object_type": "accounts",
                                                 "file": SimpleUploadedFile(name, data, "text/csv")})
        if name == "取引先.csv":
            job = ImportJob.objects.for_workspace(ws).latest("pk")
            with django_capture_on_commit_callbacks(execute=True):
                uploader.post(reverse("imports:map", args=[job.pk]),
                              {"col_0": "name", "col_1": "external_id", "col_2": "arr"})
    return ws


def data_values(ws):
    """What the pages show of the data in Latin letters: codes, addresses, keys, the product's events."""
    values = [ws.slug, ws.currency, ws.time_zone, "newcomer@nihon.example.jp", "abc", "取引先.csv", "取引先2.csv"]
    for membership in Membership.objects.for_workspace(ws).select_related("user"):
        values += [membership.user.username, membership.user.email]
    values += Account.objects.for_workspace(ws).values_list("external_id", flat=True)
    values += Account.objects.for_workspace(ws).values_list("domain", flat=True)
    values += Contact.objects.for_workspace(ws).values_list("email", flat=True)
    for attributes in Account.objects.for_workspace(ws).values_list("attributes", flat=True):
        values += attributes  # custom attributes' keys, named by the CRM
    # What the log recorded at the time (the demo's romanised names, before the fixture renamed them).
    values += AuditEvent.objects.for_workspace(ws).values_list("object_repr", flat=True)
    values += UsageEvent.objects.for_workspace(ws).values_list("event", flat=True).distinct()
    values += ApiToken.objects.filter(membership__workspace=ws).values_list("name", flat=True)
    values += WriteKey.objects.for_workspace(ws).values_list("name", flat=True)
    values += Endpoint.objects.for_workspace(ws).values_list("url", flat=True)
    # Playbook tasks' titles name their account as it was called when the task was made (the demo's
    # romanised names, before the fixture renamed the accounts): the names only, not the titles'
    # own words, which come from the Japanese library.
    for title in Task.objects.for_workspace(ws).filter(source="playbook").values_list("title", flat=True):
        values += [word for word in re.findall(r"[A-Za-z][A-Za-z.&'-]*", title)]
    # What customers said and what feature requests are called (product names: SSO, Okta…): the data's words.
    values += FeatureRequest.objects.for_workspace(ws).values_list("title", flat=True)
    values += FeatureRequest.objects.for_workspace(ws).values_list("description", flat=True)
    values += FeatureRequestEvidence.objects.for_workspace(ws).values_list("quote", flat=True)
    values += SurveyResponse.objects.for_workspace(ws).values_list("comment", flat=True)
    # Products and plans as the CRM names them (the demo's are English words, as Japanese SaaS plans often are).
    values += Contract.objects.for_workspace(ws).values_list("product", flat=True).distinct()
    values += Account.objects.for_workspace(ws).values_list("plan", flat=True).distinct()
    values += MAPPABLE_ACCOUNT_FIELDS  # the account fields a trait mapping names, as it must write them
    for scorecard in Scorecard.objects.for_workspace(ws):  # group and measure keys a manager chose
        definition = scorecard.versions.latest("number").definition
        for group in definition["groups"]:
            values += [group["key"], *(m["key"] for m in group["measures"])]
    return [value for value in values if value]


def pages(ws):
    """Every page, by URL name: the URLs to open."""
    account = Account.objects.for_workspace(ws).filter(owner__isnull=False, status="active").order_by("-arr").first()
    churned = Account.objects.for_workspace(ws).filter(status="churned").first()
    contact = Contact.objects.for_workspace(ws).filter(account=account).first()
    segment = Segment.objects.for_workspace(ws).get()
    policy = CadencePolicy.objects.for_workspace(ws).first()
    scorecard = Scorecard.objects.for_workspace(ws).first()
    checked, waiting = ImportJob.objects.for_workspace(ws).order_by("pk")
    webhook = Endpoint.objects.for_workspace(ws).filter(enabled=True).first()
    task = Task.objects.for_workspace(ws).filter(status="open").first()
    playbook = Playbook.objects.for_workspace(ws).get(library_key="renewal_120")
    line = Contract.objects.for_workspace(ws).filter(account=account).first() or Contract.objects.create(
        workspace=ws, account=account, product="プロプラン", mrr=100000, start_date=ws.today() - dt.timedelta(days=300),
        end_date=ws.today() + dt.timedelta(days=65))
    opportunity = Opportunity.objects.for_workspace(ws).exclude(status="won").order_by("pk").first()
    feature = FeatureRequest.objects.for_workspace(ws).order_by("pk").first()
    programme = Programme.objects.for_workspace(ws).get(kind="webinar")
    programme_session = ProgrammeSession.objects.for_workspace(ws).filter(programme=programme).first()
    plan = SuccessPlan.objects.for_workspace(ws).order_by("pk").first()
    note = KptNote.objects.for_workspace(ws).order_by("pk").first()
    return {
        "home": [reverse("home"), reverse("home") + "?period=month"],
        "my_book": [reverse("my_book"), reverse("my_book") + "?owner=none"],
        "workspaces:profile": [reverse("workspaces:profile")],
        "audit_log": [reverse("audit_log")],
        "accounts:list": [reverse("accounts:list"), reverse("accounts:list") + "?status=churned",
                          reverse("accounts:list") + "?q=該当なし"],
        "accounts:create": [reverse("accounts:create")],
        "accounts:stages": [reverse("accounts:stages")],
        "accounts:churn_reasons": [reverse("accounts:churn_reasons")],
        "accounts:detail": [reverse("accounts:detail", args=[account.pk]), reverse("accounts:detail", args=[churned.pk])],
        "accounts:edit": [reverse("accounts:edit", args=[account.pk])],
        "accounts:delete": [reverse("accounts:delete", args=[account.pk])],
        "accounts:contact_add": [reverse("accounts:contact_add", args=[account.pk])],
        "accounts:contact_edit": [reverse("accounts:contact_edit", args=[account.pk, contact.pk])],
        "imports:index": [reverse("imports:index")],
        "imports:job": [reverse("imports:job", args=[checked.pk])],
        "imports:map": [reverse("imports:map", args=[waiting.pk])],
        "coverage:report": [reverse("coverage:report")],
        "coverage:accounts": [reverse("coverage:accounts"), reverse("coverage:accounts") + f"?segment={segment.pk}"],
        "coverage:due": [reverse("coverage:due")],
        "coverage:matrix": [reverse("coverage:matrix")],
        "coverage:touch_model": [reverse("coverage:touch_model")],
        "coverage:policy_create": [reverse("coverage:policy_create"), reverse("coverage:policy_create") + "?suggest=1"],
        "coverage:policy_edit": [reverse("coverage:policy_edit", args=[policy.pk])],
        "segments:list": [reverse("segments:list")],
        "segments:create": [reverse("segments:create")],
        "segments:detail": [reverse("segments:detail", args=[segment.pk])],
        "segments:edit": [reverse("segments:edit", args=[segment.pk])],
        "health:overview": [reverse("health:overview")],
        "health:alerts": [reverse("health:alerts")],
        "health:scorecard": [reverse("health:scorecard", args=[scorecard.pk])],
        "health:backtest": [reverse("health:backtest")],
        "playbooks:list": [reverse("playbooks:list")],
        "playbooks:create": [reverse("playbooks:create")],
        "playbooks:detail": [reverse("playbooks:detail", args=[playbook.pk]),
                             reverse("playbooks:detail", args=[playbook.pk]) + "?q=株式会社"],
        "playbooks:edit": [reverse("playbooks:edit", args=[playbook.pk])],
        "usage:settings": [reverse("usage:settings")],
        "usage:history": [reverse("usage:history")],
        "workspaces:members": [reverse("workspaces:members")],
        "workspaces:tokens": [reverse("workspaces:tokens")],
        "webhooks:list": [reverse("webhooks:list")],
        "webhooks:detail": [reverse("webhooks:detail", args=[endpoint.pk]) for endpoint in
                            Endpoint.objects.for_workspace(ws).order_by("pk")]
                           + [reverse("webhooks:detail", args=[webhook.pk]) + "?status=failed&event=account.churned"],
        "playbook_report:report": [reverse("playbook_report:report"),
                                   reverse("playbook_report:report") + "?start=2026-03-01&end=2026-02-01"],
        "revenue:overview": [reverse("revenue:overview"), reverse("revenue:overview") + "?preset=last_12_months",
                             reverse("revenue:overview") + "?start=2026-03-01&end=2026-02-01"],
        "revenue:movements": [reverse("revenue:movements") + "?preset=last_12_months&kind=churn",
                              reverse("revenue:movements") + "?preset=last_12_months",
                              reverse("revenue:movements") + "?start=x"],
        "tasks:list": [reverse("tasks:list"), reverse("tasks:list") + "?status=", reverse("tasks:list") + "?assignee=999999",
                       reverse("tasks:list") + "?q=該当なし"],
        "tasks:create": [reverse("tasks:create") + f"?account={account.pk}"],
        "tasks:load": [reverse("tasks:load")],
        "tasks:edit": [reverse("tasks:edit", args=[task.pk])],
        "tasks:complete": [reverse("tasks:complete", args=[task.pk])],
        "tasks:snooze": [reverse("tasks:snooze", args=[task.pk])],
        "renewals:overview": [reverse("renewals:overview"), reverse("renewals:overview") + "?at_risk=true",
                              reverse("renewals:overview") + "?due_from=x", reverse("renewals:overview") + "?q=該当なし"],
        "renewals:record": [reverse("renewals:record", args=[line.pk])],
        "expansion:list": [reverse("expansion:list"), reverse("expansion:list") + "?status=won&period=last_12_months",
                           reverse("expansion:list") + "?q=該当なし"],
        "expansion:create": [reverse("expansion:create") + f"?account={account.pk}"],
        "expansion:edit": [reverse("expansion:edit", args=[opportunity.pk])],
        "expansion:status": [reverse("expansion:status", args=[opportunity.pk])],
        "expansion:kpi": [reverse("expansion:kpi"), reverse("expansion:kpi") + "?period=quarter",
                          reverse("expansion:kpi") + "?period=custom&start=2026-03-01&end=2026-02-01"],
        "voice:requests": [reverse("voice:requests"), reverse("voice:requests") + f"?segment={segment.pk}&tier=high",
                           reverse("voice:requests") + "?q=該当なし", reverse("voice:requests") + "?segment=999999"],
        "voice:request_create": [reverse("voice:request_create")],
        "voice:request_detail": [reverse("voice:request_detail", args=[feature.pk])],
        "voice:evidence_add": [reverse("voice:evidence_add", args=[account.pk])],
        "voice:nps": [reverse("voice:nps"), reverse("voice:nps") + "?kind=csat&period=quarter&group_by=tier",
                      reverse("voice:nps") + "?start=2026-05-01&end=2026-01-01"],
        "voice:upload": [reverse("voice:upload")],
        "programmes:list": [reverse("programmes:list"), reverse("programmes:list") + "?q=該当なし"],
        "programmes:create": [reverse("programmes:create")],
        "programmes:detail": [reverse("programmes:detail", args=[programme.pk])],
        "programmes:edit": [reverse("programmes:edit", args=[programme.pk])],
        "programmes:session": [reverse("programmes:session", args=[programme_session.pk])],
        "programmes:effect": [reverse("programmes:effect", args=[programme.pk])],
        "programmes:session_effect": [reverse("programmes:session_effect", args=[programme_session.pk])],
        "lifecycle:stages": [reverse("lifecycle:stages"), reverse("lifecycle:stages") + "?weeks=4"],
        "lifecycle:levels": [reverse("lifecycle:levels")],
        "lifecycle:levels_edit": [reverse("lifecycle:levels_edit")],
        "success:plans": [reverse("success:plans"), reverse("success:plans") + "?q=該当なし"],
        "success:plan": [reverse("success:plan", args=[plan.account_id]), reverse("success:plan", args=[account.pk])],
        "success:report_card": [reverse("success:report_card", args=[plan.account_id])],
        "success:levels": [reverse("success:levels")],
        "success:kpt": [reverse("success:kpt"), reverse("success:kpt") + "?period=week"],
        "success:kpt_edit": [reverse("success:kpt_edit", args=[note.pk])],
        "onboarding:incomplete": [reverse("onboarding:incomplete")],
        "onboarding:late": [reverse("onboarding:late")],
        "onboarding:report": [reverse("onboarding:report")],
        "onboarding:settings": [reverse("onboarding:settings")],
        "onboarding:template_edit": [reverse("onboarding:template_edit", args=[
            MilestoneTemplate.objects.for_workspace(account.workspace).first().pk])],
        "onboarding:upload": [reverse("onboarding:upload")],
        "onboarding:handoff": [reverse("onboarding:handoff", args=[account.pk])],
    }


def report(found):
    return "English words on Japanese pages:\n" + "\n".join(f"  {url}: {' '.join(words)}" for url, words in found.items())


def test_every_page_is_checked_or_named_as_not_a_page(nihon):
    names = {name for name, route in url_names() if not route.startswith(NOT_PAGE_PREFIXES)}
    assert names - set(pages(nihon)) - NOT_PAGES == set()
    assert NOT_PAGES <= names  # no stale name


@pytest.mark.parametrize("role", ["admin", "manager1", "csm1", "viewer"])
def test_a_japanese_user_meets_no_english_word(nihon, client, role):
    client = signed_in(client, nihon, role)
    data = data_values(nihon)
    found = {}
    for urls in pages(nihon).values():
        for url in urls:
            response = client.get(url, **JA)
            if response.status_code == 403 and role != "admin":  # not this role's page; the admin opens all
                continue
            assert response.status_code == 200, (url, response.status_code)
            if words := english_words(response.content.decode(), data):
                found[url] = words
    assert not found, report(found)


def test_a_new_empty_workspace_is_japanese(settings, client):
    """What a team sees first: every list empty, every default in place."""
    settings.LANGUAGE_CODE = "ja"
    ws = create_workspace(name="新しいチーム", slug="atarashii")
    create_user_with_membership(workspace=ws, username="atarashii-admin", password="pass-word-123", role=Role.ADMIN,
                                actor=SystemActor("テスト"), first_name="花子", last_name="山田",
                                email="hanako@atarashii.example.jp")
    client = signed_in(client, ws, "admin")
    found = {}
    for name, route in url_names():
        if route.startswith(NOT_PAGE_PREFIXES) or name in NOT_PAGES or "<" in route:
            continue
        url = reverse(name)
        response = client.get(url, **JA)
        assert response.status_code == 200, (url, response.status_code)
        if words := english_words(response.content.decode(), data_values(ws)):
            found[url] = words
    assert not found, report(found)


def test_refused_input_is_explained_in_japanese(nihon, client, tmp_path):
    """Forms sent back with their errors, and the messages after an action: the reasons are Japanese."""
    client = signed_in(client, nihon, "admin")
    account = Account.objects.for_workspace(nihon).first()
    segment = Segment.objects.for_workspace(nihon).get()
    bad_rules = '{"op": "and", "conditions": [{"field": "arr", "op": "gte", "value": "abc"}]}'
    posts = [
        (reverse("accounts:create"), {}),
        (reverse("accounts:create"), {"name": "株式会社テスト", "arr": "abc", "licensed_seats": "-1",
                                      "renewal_date": "来年", "attributes": "{nps", "status": "active"}),
        (reverse("accounts:edit", args=[account.pk]), {"name": "", "external_id": account.external_id}),
        (reverse("accounts:contact_add", args=[account.pk]), {"email": "not-an-address"}),
        (reverse("accounts:log_touchpoint", args=[account.pk]), {"channel": "carrier-pigeon"}),
        (reverse("segments:create"), {"name": "", "rules": bad_rules}),
        (reverse("segments:create"), {"name": "大口顧客", "rules": "{arr > 1"}),
        (reverse("segments:edit", args=[segment.pk]), {"name": "大口顧客", "rules": '{"op": "xor", "conditions": []}'}),
        (reverse("playbooks:create"), {"name": "", "trigger_kind": "silent", "condition": "{x", "limit": "times",
                                       "steps-TOTAL_FORMS": "1", "steps-INITIAL_FORMS": "0", "steps-0-kind": "task",
                                       "steps-0-day": "-1"}),
        (reverse("playbooks:create"), {"name": "更新の準備", "trigger_kind": "renewal_within", "trigger_days": "90",
                                       "limit": "once_per_reason", "open_tasks": "cancel", "steps-TOTAL_FORMS": "1",
                                       "steps-INITIAL_FORMS": "0", "steps-0-kind": "task", "steps-0-day": "0",
                                       "steps-0-start": "enrolment", "steps-0-title": "{acount}に電話"}),
        (reverse("coverage:policy_create"), {"name": "", "priority": "-1", "max_gap_days": "0"}),
        (reverse("coverage:touch_model"), {"high_min_arr": "-1", "low_min_arr": "abc", "seat_bands": "A:x",
                                           "tenure_bands": "a"}),
        (reverse("usage:settings"), {"action": "save_settings", "trait_mapping": "seats licensed_seats"}),
        (reverse("usage:settings"), {"action": "create_key", "name": ""}),
        (reverse("usage:history"), {"action": "import", "file": SimpleUploadedFile(
            "履歴.csv", "message_id,timestamp,account,user_id,event\nm1,きのう,A-1,u1,ログイン\n".encode())}),
        (reverse("usage:history"), {"action": "rebuild", "first_day": "2026-02-01", "last_day": "2026-01-01"}),
        (reverse("workspaces:invite"), {"email": "not-an-address", "role": "csm"}),
        (reverse("webhooks:list"), {"url": "https://10.0.0.1/hook", "events": ["alert.opened"]}),
        (reverse("webhooks:list"), {"url": "ftp://example.jp/hook", "events": []}),
        (reverse("imports:index"), {"object_type": "accounts",
                                    "file": SimpleUploadedFile("壊れた.xlsx", b"not a workbook", "application/zip")}),
    ]
    data = [*data_values(nihon), "壊れた.xlsx"]
    found = {}
    for url, form in posts:
        response = client.post(url, form, follow=True, **JA)
        assert response.status_code in (200, 400), (url, response.status_code)
        if words := english_words(response.content.decode(), data):
            found[f"POST {url} {sorted(form)}"] = words
    assert not found, report(found)


def test_what_scripts_write_on_the_page_is_japanese(nihon, client):
    """Scripts insert text from data the page gives them: the segment editor's labels, the import's progress."""
    client = signed_in(client, nihon, "manager1")
    html = client.get(reverse("segments:create"), **JA).content.decode()
    config = json.loads(re.search(r'id="segment-editor-config"[^>]*>(.*?)</script>', html, re.S).group(1))
    shown = [field["label"] for field in config["fields"]] + list(config["ops"].values()) + list(config["text"].values())
    shown += [label for options in config["choices"].values() for _, label in options]
    job = ImportJob.objects.for_workspace(nihon).order_by("pk").first()
    shown.append(client.get(reverse("imports:progress", args=[job.pk]), **JA).json()["status_label"])
    words = english_words("\n".join(f"<p>{text}</p>" for text in shown), data_values(nihon))
    assert words == [], (words, shown)


def test_signed_out_pages_and_not_found_are_japanese(nihon, client):
    admin = Membership.objects.for_workspace(nihon).get(user__username="nihon-admin")
    _, token = invite_member(workspace=nihon, email="second@nihon.example.jp", role=Role.CSM, actor=admin)
    data = [*data_values(nihon), "second@nihon.example.jp"]
    found = {}
    for url in (reverse("login"), reverse("workspaces:join", args=[token])):
        response = client.get(url, **JA)
        assert response.status_code == 200
        if words := english_words(response.content.decode(), data):
            found[url] = words
    # A wrong password (the form's error), then the lockout page after too many.
    for _ in range(5):
        response = client.post(reverse("login"), {"username": "nihon-csm1", "password": "wrong"}, **JA)
        if words := english_words(response.content.decode(), data):
            found[f"{reverse('login')} (wrong password, {response.status_code})"] = words
    assert response.status_code == 429
    for signed_in_as in (None, "csm1"):
        if signed_in_as:
            signed_in(client, nihon, signed_in_as)
        missing = client.get("/no-such-page/", **JA)
        assert missing.status_code == 404
        if words := english_words(missing.content.decode(), data):
            found[f"/no-such-page/ ({signed_in_as or 'signed out'})"] = words
    assert not found, report(found)


def test_the_server_error_page_is_japanese(rf):
    from django.utils import translation
    from django.views.defaults import server_error

    with translation.override("ja"):
        html = server_error(rf.get("/")).content.decode()
    assert english_words(html) == []
    assert "エラー" in html


def test_the_check_finds_english_and_passes_data_and_code():
    html = ('<p>取引先 <b>Next</b> SF-100001</p><input placeholder="Search"><script>var Hidden = 1;</script>'
            '<select><option>Active</option></select><span title="Green">ARR</span><pre>analytics.track()</pre>'
            '<p>segment.created video_meeting groupId</p><input type="submit" value="Save">')
    assert english_words(html, ["SF-100001"]) == ["Active", "Green", "Next", "Save", "Search"]


def test_a_japanese_deployment_stores_japanese_defaults(nihon):
    """The names a new workspace starts with are data afterwards: they are written in the deployment's language."""
    names = [*LifecycleStage.objects.for_workspace(nihon).values_list("name", flat=True),
             *CadencePolicy.objects.for_workspace(nihon).values_list("name", flat=True),
             *ChurnReasonCategory.objects.for_workspace(nihon).values_list("name", flat=True)]
    definition = Scorecard.objects.for_workspace(nihon).get(is_default=True).versions.latest("number").definition
    names += [group["label"] for group in definition["groups"]]
    assert [name for name in names if WORD.search(name)] == []
