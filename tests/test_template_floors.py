"""The floors hold in templates too: an app's templates load template tags and link to pages of
its own app and lower floors only (the composition floor's templates may use every app)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
# The capabilities that may read another one (the import contracts' exceptions, .importlinter).
PEER_READS = set(re.findall(r"^\s*(\w+)\.\*\* -> (\w+)\.selectors$", (ROOT / ".importlinter").read_text(), re.M))
FLOOR = {"ui": 0, "workspaces": 0, "webhooks": 0.5, "accounts": 1, "usage": 2, "imports": 2, "segments": 2,
         "coverage": 2, "healthscore": 2, "playbooks": 2, "renewals": 2, "expansion": 2, "revenue": 2, "voice": 2,
         "programmes": 2, "lifecycle": 2, "success": 2, "onboarding": 2, "cs_platform": 3}
TAG_LIBRARIES = {"charts": "ui", "formatting": "ui", "policy": "workspaces", "account_ui": "accounts",
                 "coverage": "coverage", "health": "healthscore", "tasks_ui": "playbooks",
                 "expansion_ui": "expansion", "voice": "voice", "lifecycle": "lifecycle", "success_ui": "success",
                 "onboarding": "onboarding"}
URL_NAMESPACES = {"webhooks": "webhooks", "workspaces": "workspaces", "accounts": "accounts", "imports": "imports",
                  "usage": "usage", "segments": "segments", "coverage": "coverage", "health": "healthscore",
                  "tasks": "playbooks", "playbook_report": "playbooks", "playbooks": "playbooks",
                  "renewals": "renewals", "expansion": "expansion", "revenue": "revenue", "voice": "voice",
                  "programmes": "programmes", "lifecycle": "lifecycle", "success": "success",
                  "onboarding": "onboarding"}
DJANGO_LIBRARIES = {"i18n", "static", "tz", "humanize", "l10n"}
COMPOSITION_FOLDERS = {"includes", "homes", "registration"}  # and base.html at the top


def app_of(template):
    folder = template.relative_to(TEMPLATES).parts[0]
    if folder in COMPOSITION_FOLDERS or template.parent == TEMPLATES:
        return "cs_platform"
    return folder


def test_templates_use_only_their_floor_and_below():
    wrong = []
    for template in TEMPLATES.rglob("*.html"):
        app, text = app_of(template), template.read_text()
        used = [TAG_LIBRARIES.get(lib, lib) for load in re.findall(r"{%\s*load ([^%]+)%}", text)
                for lib in load.split() if lib not in DJANGO_LIBRARIES]
        used += [URL_NAMESPACES[ns] for ns in re.findall(r"{%\s*url\s+['\"](\w+):", text)]
        for other in used:
            peer = FLOOR[other] == FLOOR[app] == 2 and other != app and (app, other) not in PEER_READS
            if FLOOR[other] > FLOOR[app] or peer:
                wrong.append(f"{template.relative_to(TEMPLATES)} uses {other}")
    assert sorted(set(wrong)) == []
    assert ("coverage", "segments") in PEER_READS  # the contracts file was read
