"""The nightly pipeline, in order. Each step is a plain function `step(*, workspace, as_of)`.

Steps read what the steps before them wrote (usage rollups before levels and health, tiers and
segments before coverage), so the order here is the order of the night. The beat schedule and
`manage.py recompute` both run this list; each capability appends its step where it belongs.
"""

from importlib import import_module

NIGHTLY_STEPS = [
    # "app.module.function" — filled in by the apps below as they land.
    # Usage rollups first: levels, health and coverage read them.
    "usage.services.nightly_usage_step",
    "coverage.nightly.tiers_step",
    "segments.nightly.step",
    "coverage.nightly.coverage_step",
    # Health reads usage rollups, tiers, segments and touches: it stays the last step of the night.
    "healthscore.services.nightly_health",
]


def run_nightly(*, workspace, as_of, only=None):
    ran = []
    for dotted in NIGHTLY_STEPS:
        module_name, function_name = dotted.rsplit(".", 1)
        if only and function_name not in only and dotted not in only:
            continue
        getattr(import_module(module_name), function_name)(workspace=workspace, as_of=as_of)
        ran.append(dotted)
    return ran
