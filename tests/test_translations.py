"""Japanese first: every message of the interface is translated, and the committed catalogue is the
one the code asks for.

- No message of `locale/ja/LC_MESSAGES/django.po` is untranslated or fuzzy.
- The compiled catalogue (`django.mo`, what the server reads) says what the `.po` says.
- The catalogue is not stale: the messages extracted from the code now (`makemessages` on a copy
  of the tree) are exactly the catalogue's, so a new string without its translation fails here.
"""

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "ja" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) "(.*)"$')
ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(text):
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(0)), text)


def read_po(path):
    """[{msgctxt, msgid, msgid_plural, msgstr: [..], fuzzy}] of a .po file, the header left out."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, field = {"msgstr": [], "fuzzy": False}, None
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                entry["fuzzy"] = True
            elif line.startswith("#"):
                continue
            elif match := KEYWORD.match(line):
                field = match.group(1)
                if field.startswith("msgstr"):
                    entry["msgstr"].append(_unescape(match.group(2)))
                else:
                    entry[field] = _unescape(match.group(2))
            elif line.startswith('"') and field:
                text = _unescape(line[1:-1])
                if field.startswith("msgstr"):
                    entry["msgstr"][-1] += text
                else:
                    entry[field] += text
        if entry.get("msgid"):
            entries.append(entry)
    return entries


def key(entry):
    return (entry.get("msgctxt"), entry["msgid"])


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = read_po(PO)
    assert len(entries) > 1000
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"])]
    fuzzy = [e["msgid"] for e in entries if e["fuzzy"]]
    assert untranslated == [], f"{len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"


def test_the_compiled_catalogue_says_what_the_po_says():
    with MO.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for entry in read_po(PO):
        if not entry["msgstr"][0]:
            continue  # untranslated: the test above says so
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            got = (compiled.npgettext(context, entry["msgid"], entry["msgid_plural"], 1) if context
                   else compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1))
        else:
            got = compiled.pgettext(context, entry["msgid"]) if context else compiled.gettext(entry["msgid"])
        assert got == entry["msgstr"][0], f"django.mo is older than django.po for {entry['msgid']!r}: compilemessages"


def test_the_catalogue_has_exactly_the_messages_of_the_code(tmp_path):
    if not shutil.which("xgettext"):
        pytest.fail("GNU gettext (xgettext) is needed to extract the messages: install the gettext package")
    copy = tmp_path / "tree"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".*", "node_modules", "media", "staticfiles", "db.sqlite3*", "__pycache__"))
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "ja", "--no-obsolete", "--no-location"],
                   cwd=copy, check=True, capture_output=True)
    extracted = {key(e) for e in read_po(copy / "locale" / "ja" / "LC_MESSAGES" / "django.po")}
    committed = {key(e) for e in read_po(PO)}
    assert sorted(extracted - committed, key=str) == [], "new messages: run makemessages and translate them"
    assert sorted(committed - extracted, key=str) == [], "messages no longer in the code: run makemessages"
