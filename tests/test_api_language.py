"""The REST API, its schema and the e-mails speak the caller's language.

An integration sends `Accept-Language: ja` and gets Japanese messages — DRF's own (required field,
bad choice, bad date, 401, 404, 405), ours (the rules of the services and serializers, 403, 409) and
the 429's — under the same field names and codes. `/api/schema/?lang=ja` is the OpenAPI document in
Japanese, summaries and descriptions whole sentences, with no placeholder left. The invitation e-mail
goes out in the inviter's language at the time they send it.
"""

import json
import re

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from workspaces.services import issue_token

pytestmark = pytest.mark.django_db

JA = {"HTTP_ACCEPT_LANGUAGE": "ja"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_a_missing_field_and_a_bad_choice_are_japanese(api_for, manager):
    api = api_for(manager)
    answer = api.post("/api/v1/accounts/", {"status": "nope"}, **JA)
    assert answer.status_code == 400
    errors = answer.json()
    assert errors["name"] == ["この項目は必須です。"]  # the field names stay what the API calls them
    assert "有効な選択肢ではありません" in errors["status"][0]
    english = api.post("/api/v1/accounts/", {"status": "nope"}, **EN).json()
    assert english["name"] == ["This field is required."]
    assert english["status"] == ['"nope" is not a valid choice.']


def test_a_bad_date_and_our_own_rules_are_japanese(api_for, csm, account):
    api = api_for(csm)
    payload = {"account": account.pk, "product": "Core", "mrr": "100000", "start_date": "2026-01-01"}
    bad_date = api.post("/api/v1/contracts/", {**payload, "start_date": "31/03/2026"}, **JA)
    assert bad_date.status_code == 400
    assert "日付の形式が違います" in bad_date.json()["start_date"][0]
    backwards = api.post("/api/v1/contracts/", {**payload, "end_date": "2025-01-01"}, **JA)
    assert backwards.status_code == 400
    assert backwards.json()["end_date"] == ["契約終了日は開始日より前にできません。"]
    assert api.post("/api/v1/contracts/", {**payload, "end_date": "2025-01-01"}, **EN).json()["end_date"] == [
        "A contract cannot end before it starts."
    ]
    unordered = api.get("/api/v1/accounts/?ordering=shoe_size", **JA)
    assert unordered.status_code == 400
    assert "shoe_sizeで並べ替えることはできません" in unordered.json()["ordering"][0]


def test_another_workspaces_id_is_not_found_in_japanese(api_for, csm, other_account):
    api = api_for(csm)
    payload = {"account": other_account.pk, "product": "Core", "mrr": "1", "start_date": "2026-01-01"}
    answer = api.post("/api/v1/contracts/", payload, **JA)
    assert answer.status_code == 400
    assert answer.json()["account"] == [f"このワークスペースに見つかりません（id {other_account.pk}）。"]


def test_not_found_and_a_page_past_the_end_are_japanese(api_for, viewer, account, other_account):
    api = api_for(viewer)
    for path in (f"/api/v1/accounts/{other_account.pk}/", "/api/v1/accounts/by-external-id/nobody/"):
        answer = api.get(path, **JA)
        assert answer.status_code == 404
        assert JAPANESE.search(answer.json()["detail"]), (path, answer.json())
    past_the_end = api.get("/api/v1/accounts/?page=99", **JA)
    assert past_the_end.status_code == 404
    assert past_the_end.json()["detail"] == "不正なページです。"
    assert api.get("/api/v1/accounts/?page=99", **EN).json()["detail"] == "Invalid page."


def test_refusals_401_403_405_are_japanese(api_for, viewer, account):
    anonymous = APIClient().get("/api/v1/accounts/", **JA)
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"] == "認証情報が含まれていません。"
    wrong = APIClient(HTTP_AUTHORIZATION="Token csp_not-a-real-token").get("/api/v1/accounts/", **JA)
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "トークンが正しくないか、無効化されています。"

    api = api_for(viewer)
    refused = api.patch(f"/api/v1/accounts/{account.pk}/", {"name": "Renamed"}, **JA)
    assert refused.status_code == 403
    assert JAPANESE.search(json.dumps(refused.json(), ensure_ascii=False)), refused.json()
    not_allowed = api.delete("/api/v1/me/", **JA)
    assert not_allowed.status_code == 405
    assert not_allowed.json()["detail"] == 'メソッド "DELETE" は許されていません。'


def test_the_rate_limit_answer_is_japanese(csm, settings):
    settings.API_THROTTLE_RATES = {"token": "1/minute", "anon": None, "failed_auth": None}
    _, key = issue_token(membership=csm, name="language")
    api = APIClient(REMOTE_ADDR="2001:db8::ja")
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/", **JA).status_code == 200
    throttled = api.get("/api/v1/me/", **JA)
    assert throttled.status_code == 429
    detail = throttled.json()["detail"]
    assert detail.startswith("リクエストが多すぎます。") and "秒後に再試行してください" in detail
    assert "Expected" not in detail
    english = api.get("/api/v1/me/", **EN).json()["detail"]
    assert english.startswith("Request was throttled. Expected available in ")


def schema(client, query="", **headers):
    answer = client.get(f"/api/schema/{query}", HTTP_ACCEPT="application/vnd.oai.openapi+json", **headers)
    assert answer.status_code == 200
    return answer.json()


def texts(schema_document):
    """Every summary and description of the document."""
    found, stack = [], [schema_document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key in ("summary", "description") and isinstance(value, str):
                    found.append(value)
                else:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def test_the_schema_in_japanese_reads_as_whole_sentences(client):
    document = schema(client, "?lang=ja")
    paths = document["paths"]
    by_id = "/api/v1/accounts/by-external-id/{external_id}/"
    assert paths[by_id]["get"]["summary"] == "この外部IDの顧客を取得"
    assert paths[by_id]["put"]["summary"] == "この外部IDの顧客を作成または更新"
    assert paths["/api/v1/touchpoints/bulk-upsert/"]["post"]["summary"] == (
        "外部IDで接触を最大1000件まとめて作成または更新（全件成功か、何も保存しないか）"
    )
    assert JAPANESE.search(paths["/api/v1/accounts/"]["get"]["description"])
    assert JAPANESE.search(paths["/api/v1/coverage/report/"]["get"]["description"])
    assert JAPANESE.search(paths["/api/v1/accounts/"]["get"]["responses"]["404"]["description"])
    assert JAPANESE.search(document["components"]["schemas"]["Account"]["description"])
    assert JAPANESE.search(document["info"]["description"])
    every = texts(document)
    assert not [text for text in every if "%(" in text]
    # No operation describes itself with a developer's note of a base class (in any language).
    assert not [text for text in every if "queryset" in text]
    # English prose left untranslated (abbreviations such as "CSM" or "MRR × 12。" are the same in both).
    english_left = [text for text in every if not JAPANESE.search(text) and re.search(r"\b[a-z]{3,}\b", text)]
    assert english_left == [], "\n".join(english_left)
    # Accept-Language works as well as ?lang=.
    assert schema(client, **JA)["paths"][by_id]["get"]["summary"] == "この外部IDの顧客を取得"


def test_the_schema_in_english_is_unchanged(client):
    paths = schema(client)["paths"]
    by_id = "/api/v1/accounts/by-external-id/{external_id}/"
    assert paths[by_id]["get"]["summary"] == "Read the account with this external ID"
    assert paths[by_id]["put"]["summary"] == "Create or update the account with this external ID"
    assert paths["/api/v1/contacts/bulk-upsert/"]["post"]["summary"] == (
        "Create or update up to 1000 contacts by external ID, all or nothing"
    )
    assert paths["/api/v1/accounts/"]["get"]["description"] == (
        "Customer accounts. Filters are those of the account list page; `ordering` sorts."
    )
    assert paths["/api/v1/segments/"]["get"]["description"].startswith("Segments: named rules")
    every = texts(schema(client, "?lang=en"))
    assert not [text for text in every if JAPANESE.search(text) or "%(" in text or "queryset" in text]


@pytest.mark.parametrize(("language", "subject", "opening"), [
    ("ja", "Acme CSへの招待", "Aiko Testさんから、Acme CSにCSMとして招待されました。"),
    ("en", "Invitation to Acme CS", "Aiko Test invited you to join Acme CS as"),
])
def test_the_invitation_mail_is_in_the_inviters_language(login, admin, settings, language, subject, opening):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = login(admin).post(reverse("workspaces:invite"), {"email": "haruka@example.com", "role": "csm"},
                                 HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    [message] = mail.outbox
    assert message.subject == subject
    assert opening in message.body
