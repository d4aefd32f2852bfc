"""The demo's voice of the customer: feature requests with evidence from many accounts, and a year of
NPS and CSAT answers that go with how much each account uses the product (so that health, the NPS
trend and the detractor playbook trigger have something to show).

`seed_voice(workspace, rng, today, actor)` runs at the end of cs_platform.demo.seed_demo, once the
accounts, contacts and usage rollups exist. A few hundred rows; well under a second.
"""

import datetime as dt
import math
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, Max, Q

from accounts.models import Account, AccountStatus, Contact
from usage.models import DailyAccountUsage
from voice import services
from voice.models import EvidenceSource, RequestStatus, SurveyKind

# (title, description, status, how many accounts ask, whether big accounts ask more, quotes)
REQUESTS = [
    ("SAML シングルサインオン", "Okta / Azure AD での SAML 2.0 ログイン。情報システム部門の必須要件。", RequestStatus.PLANNED, 14,
     True, ["情シスからSSOがないと全社展開できないと言われています。", "来期の監査でSSO必須になりました。"]),
    ("Salesforce 双方向同期", "商談・取引先の項目をリアルタイムで双方向に同期したい。", RequestStatus.NEW, 11, True,
     ["営業がSalesforceしか見ないので、二重入力になっています。", "取引先の更新が翌日になるのが困ります。"]),
    ("ダッシュボードのPDF出力", "経営会議向けにダッシュボードをPDFで配布したい。", RequestStatus.SHIPPED, 9, False,
     ["毎月スクリーンショットを貼って資料を作っています。", "役員会に紙で出したい。"]),
    ("監査ログのCSVダウンロード", "誰がいつ何を変えたかを監査用に出力したい。", RequestStatus.PLANNED, 7, True,
     ["内部監査で操作ログの提出を求められました。"]),
    ("権限の細分化（部署単位）", "部署ごとに閲覧・編集できるデータを分けたい。", RequestStatus.NEW, 10, True,
     ["子会社のデータを本社から見えないようにしたい。", "部署をまたいだ閲覧を制限できないと導入が進みません。"]),
    ("モバイルアプリ", "外出先から確認・入力できるスマホアプリ。", RequestStatus.DECLINED, 6, False,
     ["現場の担当者はPCを持ち歩きません。"]),
    ("Slack 通知", "重要な変化を Slack のチャンネルに通知したい。", RequestStatus.SHIPPED, 12, False,
     ["メールは見落とすのでSlackに流したい。", "チームのチャンネルで共有できると助かります。"]),
    ("API のレート制限緩和", "夜間バッチで大量データを取り込みたい。", RequestStatus.NEW, 4, True,
     ["夜間の一括連携が途中で止まります。"]),
    ("英語以外の多言語対応（中国語）", "中国拠点のメンバー向けに簡体字表示。", RequestStatus.NEW, 3, True,
     ["上海拠点のメンバーが使えずに困っています。"]),
    ("カスタム項目の一括編集", "一覧画面で複数レコードの項目をまとめて変更したい。", RequestStatus.PLANNED, 8, False,
     ["100件を1件ずつ直すのは大変です。"]),
    ("請求書払い（年払い）", "クレジットカードではなく請求書での年払い。", RequestStatus.SHIPPED, 5, True,
     ["経理の規定でカード払いができません。"]),
    ("kintone 連携", "kintone アプリとのデータ連携。", RequestStatus.NEW, 6, False,
     ["社内の申請はすべてkintoneで回しています。"]),
    ("データ保持期間の延長", "3年分の履歴を残したい。", RequestStatus.NEW, 4, True,
     ["前年同月比を見たいのに過去データが消えてしまいます。"]),
    ("ダークモード", "画面のダークモード。", RequestStatus.DECLINED, 3, False,
     ["夜間の作業で目が疲れるので。"]),
    ("ゲストユーザー招待", "取引先の担当者をゲストとして招待したい。", RequestStatus.NEW, 7, False,
     ["代理店さんとも同じ画面で話したい。", "外部パートナーに閲覧だけ許可したいです。"]),
]
SOURCES = [EvidenceSource.CALL, EvidenceSource.MEETING, EvidenceSource.EMAIL, EvidenceSource.SUPPORT,
           EvidenceSource.SURVEY]
PROMOTER_COMMENTS = ["サポートの対応が早くて助かっています。", "チーム全体で毎日使っています。", "導入してから解約率が下がりました。",
                     "担当CSMの提案がいつも的確です。", ""]
PASSIVE_COMMENTS = ["概ね満足ですが、動作が少し重いです。", "機能は十分ですが設定が難しい。", ""]
DETRACTOR_COMMENTS = ["レポートの読み込みが遅すぎます。", "欲しい連携がなく、手作業が減りません。", "担当者が変わってから連絡がありません。",
                      "価格に見合う効果がまだ出ていません。", "ログインできないことが何度かありました。"]


def _engagement(workspace, today):
    """{account_id: 0-1}: days active in the last 60 and the busiest day's users per seat, the same
    usage the health score reads (so answers and health go together)."""
    since = today - dt.timedelta(days=59)
    usage = (DailyAccountUsage.objects.for_workspace(workspace).filter(day__gte=since, day__lte=today)
             .values("account_id").annotate(days=Count("id", filter=Q(events__gt=0)), peak=Max("active_users")))
    seats = dict(Account.objects.for_workspace(workspace).values_list("pk", "licensed_seats"))
    found = {}
    for row in usage:
        per_seat = min(1.0, (row["peak"] or 0) / max(1, seats.get(row["account_id"]) or 1))
        found[row["account_id"]] = 0.5 * min(1.0, row["days"] / 40) + 0.5 * per_seat
    # As a rank (0 the least engaged, 1 the most), so that the book spreads over detractors to promoters.
    ranked = sorted(found, key=found.get)
    return {pk: index / max(1, len(ranked) - 1) for index, pk in enumerate(ranked)}


@transaction.atomic  # one commit, not one per request and piece of evidence
def seed_voice(workspace, rng, today, actor):
    accounts = list(Account.objects.for_workspace(workspace).values("pk", "arr", "status", "churned_on",
                                                                    "contract_start"))
    if not accounts:
        return {"requests": 0, "evidence": 0, "responses": 0}
    contacts = defaultdict(list)
    for contact in Contact.objects.for_workspace(workspace).filter(left_on__isnull=True).order_by("pk"):
        contacts[contact.account_id].append(contact)
    by_pk = {row["pk"]: row for row in accounts}
    objects = {a.pk: a for a in Account.objects.for_workspace(workspace).filter(pk__in=list(by_pk))}
    active = [row for row in accounts if row["status"] == AccountStatus.ACTIVE]
    weights_big = [math.log10(float(row["arr"]) + 10) ** 3 for row in active]

    evidence_count = 0
    for title, description, status, asking, big, quotes in REQUESTS:
        request = services.file_request(workspace=workspace, actor=actor, title=title, description=description)
        if status != RequestStatus.NEW:
            services.update_request(request=request, actor=actor, status=status)
        chosen = set()
        while len(chosen) < min(asking, len(active)):
            row = rng.choices(active, weights=weights_big)[0] if big else rng.choice(active)
            chosen.add(row["pk"])
        for pk in sorted(chosen):
            account = objects[pk]
            for _time in range(1 if rng.random() < 0.75 else 2):
                people = contacts.get(pk) or [None]
                services.add_evidence(
                    request=request, actor=actor, account=account, contact=rng.choice(people),
                    quote=rng.choice(quotes), source=rng.choice(SOURCES),
                    date=today - dt.timedelta(days=rng.randint(0, 330)))
                evidence_count += 1

    engagement = _engagement(workspace, today)
    rows = []
    for row in accounts:
        people = contacts.get(row["pk"])
        if not people or rng.random() < 0.35:
            continue  # not every customer answers surveys
        level = engagement.get(row["pk"], 0.1)
        for months_back in range(12):
            if rng.random() > 0.28:
                continue
            day = today - dt.timedelta(days=months_back * 30 + rng.randint(0, 29))
            if row["contract_start"] and day < row["contract_start"]:
                continue
            if row["churned_on"] and day > row["churned_on"]:
                continue
            mood = level * (0.7 if row["churned_on"] else 1.0)  # the months before leaving were not happy ones
            # A team getting better over the year: answers drift up a little towards today.
            score = max(0, min(10, round(rng.gauss(4.3 + 5.5 * mood + 0.05 * (12 - months_back), 1.5))))
            comments = PROMOTER_COMMENTS if score >= 9 else PASSIVE_COMMENTS if score >= 7 else DETRACTOR_COMMENTS
            rows.append({"external_id": f"survey-nps-{row['pk']}-{months_back}", "contact": rng.choice(people),
                         "kind": SurveyKind.NPS, "score": score, "responded_on": day,
                         "comment": rng.choice(comments) if rng.random() < 0.6 else ""})
            if rng.random() < 0.3:  # a support ticket's satisfaction answer
                csat = max(1, min(5, round(rng.gauss(2.2 + 3 * mood, 0.8))))
                rows.append({"external_id": f"survey-csat-{row['pk']}-{months_back}", "contact": rng.choice(people),
                             "kind": SurveyKind.CSAT, "score": csat, "responded_on": day, "comment": ""})
    result = services.bulk_upsert_responses(workspace=workspace, actor=actor, rows=rows) if rows else {"created": 0}
    return {"requests": len(REQUESTS), "evidence": evidence_count, "responses": result["created"]}
