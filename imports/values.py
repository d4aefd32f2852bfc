"""Turning spreadsheet cells into Python values, the way Japanese and English sheets write them.

Every parser takes the raw cell (a string from CSV, or a number/date from XLSX) and returns the
value, or raises CellError with a message in plain words. Empty cells are handled by the caller.
"""

import datetime as dt
import json
import re
import unicodedata
from decimal import Decimal

from django.utils.translation import gettext as _

from workspaces.values import INT_MAX, INT_MIN, NumberError, to_decimal, to_int

EXCEL_EPOCH = dt.datetime(1899, 12, 30)


class CellError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def clean_text(value):
    """A cell as a trimmed string. XLSX numbers such as 12345.0 become '12345'; the quote our CSV
    export puts before a formula-like text ("'=…") is removed again."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value).strip()
    if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        text = text[1:].strip()
    return text


def nfkc(text):
    return unicodedata.normalize("NFKC", text).strip()


def is_blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


_NUMBER_NOISE = re.compile(r"[,\s¥$€円]|JPY|USD|EUR", re.IGNORECASE)

# The number columns an import writes: amounts are DecimalField(16, 2), counts PositiveIntegerField.
# Bounded here, before conversion (workspaces.values): "1e1000000" must be a cell error, not a
# million-digit integer built in the worker; the writers' own checks (e.g. not negative) still apply.
MONEY_MAX = Decimal("99999999999999.99")


def shown(value):
    """A cell as an error message quotes it: at most 40 characters."""
    text = clean_text(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _number_error(value, error):
    if error.code in ("not_a_number", "too_long"):
        return CellError(_("“%(value)s” is not a number.") % {"value": shown(value)})
    if error.code == "not_whole":
        return CellError(_("“%(value)s” is not a whole number.") % {"value": shown(value)})
    return CellError(_("“%(value)s”: %(reason)s") % {"value": shown(value), "reason": error.message})


def parse_decimal(value, *, min_value=-MONEY_MAX, max_value=MONEY_MAX):
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = value
    else:
        text = _NUMBER_NOISE.sub("", nfkc(clean_text(value)))
        if text.startswith("(") and text.endswith(")"):
            text = "-" + text[1:-1]
    try:
        return to_decimal(text, min_value=min_value, max_value=max_value)
    except NumberError as error:
        raise _number_error(value, error) from None


def parse_int(value, *, min_value=INT_MIN, max_value=INT_MAX):
    number = parse_decimal(value, min_value=min_value, max_value=max_value)
    try:
        return to_int(number, min_value=min_value, max_value=max_value)
    except NumberError as error:
        raise _number_error(value, error) from None


_DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


def _excel_serial(number):
    # Serial day numbers as Excel stores them (1 = 1900-01-01, with its 1900 leap-year quirk).
    if not 1 <= number < 2958466:
        raise ValueError
    return EXCEL_EPOCH + dt.timedelta(days=float(number))


# Dates an import accepts: a year outside these is a typo ("0024", "20244"), and the far ends of
# Python's calendar break date arithmetic (a renewal "9999-12-31" plus a notice period).
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def parse_date(value):
    day = _parse_date(value)
    if not FIRST_DATE <= day <= LAST_DATE:
        raise CellError(_("“%(value)s” is not a date between %(first)s and %(last)s.")
                        % {"value": shown(value), "first": FIRST_DATE.isoformat(), "last": LAST_DATE.isoformat()})
    return day


def _parse_date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return _excel_serial(value).date()
        except (ValueError, OverflowError):
            raise CellError(_("“%(value)s” is not a date.") % {"value": shown(value)}) from None
    text = nfkc(clean_text(value))
    # A time part after the date ("2024/04/01 0:00:00", as Excel writes dates to CSV) is ignored.
    date_part = re.split(r"[ T]", text, maxsplit=1)[0]
    for pattern in _DATE_PATTERNS:
        match = pattern.match(date_part)
        if match:
            try:
                return dt.date(*(int(part) for part in match.groups()))
            except ValueError:
                break
    else:
        if re.fullmatch(r"\d{4,5}(\.\d+)?", text):
            return _parse_date(float(text))
    raise CellError(_("“%(value)s” is not a date; use e.g. 2024-04-01 or 2024/4/1.") % {"value": shown(value)})


_TIME = re.compile(r"^(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6}))?)?$")


def parse_datetime(value, *, tz):
    """Aware datetime. Naive values (and dates alone, at midnight) are in the workspace's time zone."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = _excel_serial(value)
        except (ValueError, OverflowError):
            raise CellError(_("“%(value)s” is not a date and time.") % {"value": shown(value)}) from None
    else:
        text = nfkc(clean_text(value))
        try:
            moment = dt.datetime.fromisoformat(text.replace("/", "-"))
        except ValueError:
            parts = text.split(None, 1)
            day = parse_date(parts[0])
            time = dt.time()
            if len(parts) == 2:
                match = _TIME.match(parts[1].replace(" ", "").replace("時", ":").replace("分", ":")
                                    .replace("秒", "").rstrip(":"))
                if not match:
                    raise CellError(
                        _("“%(value)s” is not a date and time; use e.g. 2024-04-01 14:30.") % {"value": shown(text)}
                    ) from None
                hour, minute, second, fraction = match.groups()
                try:
                    time = dt.time(int(hour), int(minute), int(second or 0), int((fraction or "0").ljust(6, "0")))
                except ValueError:
                    raise CellError(_("“%(value)s” is not a valid time.") % {"value": shown(text)}) from None
            moment = dt.datetime.combine(day, time)
    if not FIRST_DATE <= moment.date() <= LAST_DATE:
        raise CellError(_("“%(value)s” is not a date between %(first)s and %(last)s.")
                        % {"value": shown(value), "first": FIRST_DATE.isoformat(), "last": LAST_DATE.isoformat()})
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


_TRUE = {"true", "yes", "y", "1", "x", "o", "はい", "○", "〇", "◯", "✓", "有", "あり", "対象"}
_FALSE = {"false", "no", "n", "0", "-", "いいえ", "×", "✗", "無", "なし", "対象外"}


def parse_bool(value):
    if isinstance(value, bool):
        return value
    text = nfkc(clean_text(value)).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(_("“%(value)s” is not yes or no.") % {"value": shown(value)})


def parse_tags(value):
    text = nfkc(clean_text(value))
    return sorted({part.strip() for part in re.split(r"[,、;；\n]", text) if part.strip()})


def parse_json(value):
    text = clean_text(value)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested thousands deep
        raise CellError(_("This is not valid JSON, e.g. {\"nps\": 42}.")) from None
    if not isinstance(data, dict):
        raise CellError(_("This must be a JSON object, e.g. {\"nps\": 42}."))
    if _holds_nul(data):
        raise CellError(_("This JSON contains a NUL character (\\u0000), which cannot be stored."))
    return data


def _holds_nul(data):
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any(_holds_nul(key) or _holds_nul(value) for key, value in data.items())
    if isinstance(data, list):
        return any(_holds_nul(item) for item in data)
    return False


# Japanese (and common English) words for choice values, beyond each choice's value and label.
CHOICE_SYNONYMS = {
    "status": {
        "active": ["有効", "契約中", "利用中", "継続", "アクティブ", "稼働中"],
        "churned": ["解約", "解約済", "解約済み", "チャーン", "inactive", "cancelled", "canceled", "lost"],
    },
    "churn_reason": {
        "onboarding_failure": ["オンボーディング失敗", "立ち上げ失敗", "導入失敗"],
        "low_usage": ["低利用", "利用低迷", "活用されず", "価値を感じない", "no value"],
        "champion_left": ["担当者退職", "推進者退職", "チャンピオン離任", "担当者異動"],
        "budget": ["予算", "予算削減", "コスト削減"],
        "price": ["価格", "価格が高い", "料金"],
        "competitor": ["競合", "競合乗り換え", "他社乗り換え", "他社移行"],
        "product_gap": ["機能不足", "機能要望"],
        "support": ["サポート", "サポート不満"],
        "business_closed": ["事業撤退", "倒産", "買収", "廃業", "閉鎖"],
        "other": ["その他"],
    },
    "channel": {
        "phone": ["電話", "架電", "tel", "call"],
        "video_meeting": ["ビデオ会議", "オンライン会議", "web会議", "オンラインmtg", "zoom", "teams", "meet", "video"],
        "onsite_meeting": ["訪問", "対面", "往訪", "来社", "訪問mtg", "meeting", "onsite"],
        "email": ["メール", "mail", "e-mail"],
        "chat": ["チャット", "slack"],
        "webinar": ["ウェビナー"],
        "seminar": ["セミナー", "勉強会"],
        "newsletter": ["ニュースレター", "メルマガ", "メールマガジン"],
        "in_app": ["アプリ内メッセージ", "アプリ内", "in-app"],
        "user_event": ["ユーザー会", "ユーザーイベント", "コミュニティ", "イベント"],
    },
    "role": {
        "champion": ["チャンピオン", "推進者", "推進担当"],
        "decision_maker": ["決裁者", "意思決定者", "責任者"],
        "admin": ["管理者", "システム管理者", "administrator"],
        "end_user": ["エンドユーザー", "利用者", "ユーザー", "user"],
    },
    "sentiment": {
        "positive": ["ポジティブ", "良好", "良い", "好感触", "good", "+"],
        "neutral": ["ニュートラル", "普通", "通常", "中立"],
        "negative": ["ネガティブ", "悪い", "不満", "懸念", "bad"],
    },
}


def churn_reason_lookup(reasons, default_names=()):
    """{normalised word: code} of the workspace's churn reasons: each code and name, then the default
    reasons' names in every language (`default_names`: (code, name) pairs) and their synonyms, so a
    Japanese sheet imports into an English workspace and back. `reasons` are (code, name) pairs,
    archived ones included (the writer refuses those for a new churn, with its own message)."""
    from .columns import normalise_header

    codes = {code for code, _name in reasons}
    lookup = {}
    for code, _name in reasons:
        lookup.setdefault(normalise_header(code), code)
    for code, name in reasons:
        lookup.setdefault(normalise_header(name), code)
    for code, name in default_names:
        if code in codes:
            lookup.setdefault(normalise_header(name), code)
    for code, words in CHOICE_SYNONYMS["churn_reason"].items():
        if code in codes:
            for word in words:
                lookup.setdefault(normalise_header(word), code)
    return lookup


def choice_lookup(field_name, choices):
    """{normalised word: value} for a TextChoices: its values, English labels and synonyms."""
    from .columns import normalise_header

    lookup = {}
    for value, label in choices.choices:
        for word in (value, str(label), *CHOICE_SYNONYMS.get(field_name, {}).get(value, [])):
            lookup.setdefault(normalise_header(word), value)
    return lookup
