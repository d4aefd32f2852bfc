"""The playbooks step of the nightly pipeline (cs_platform/nightly.py runs it after health)."""

from .engine import evaluate_playbooks


def step(*, workspace, as_of):
    """Every playbook's trigger for all accounts (after health: triggers read the day's scores,
    coverage, segments and usage): enrol, end the runs whose trigger cleared, create the due tasks."""
    return {"playbooks": evaluate_playbooks(workspace=workspace, as_of=as_of)}
