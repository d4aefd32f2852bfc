"""Backups and portability: a workspace exported and imported as a new one reads the same, figure by
figure, on past days too; the archive holds one workspace only; a changed or newer archive is
refused and a failed import leaves nothing."""

import pytest

from cs_platform.nightly import run_nightly
from cs_platform.portability.services import export_workspace, import_workspace
from healthscore.models import ScorecardVersion
from segments.models import Segment

from .portability_figures import differences, report_figures
from .portability_seed import history_days, seed_workspace


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def source(db, media):
    return seed_workspace("port-src").workspace


@pytest.mark.django_db
def test_a_restored_workspace_reproduces_every_report_figure(source, tmp_path):
    days = history_days(source)
    before = report_figures(source, days)

    export_workspace(workspace=source, path=str(tmp_path / "src.zip"))
    restored = import_workspace(path=str(tmp_path / "src.zip"), slug="port-restored").workspace

    assert restored.pk != source.pk
    assert differences(before, report_figures(restored, days)) == []
    # The seed is not trivial: every kind of figure has something in it.
    assert before["coverage"][str(days[0])]["report by segment [none]"]["groups"].get("(deleted)")
    assert len(before["segments"]) == 3 and before["health"]["versions"].count(["Large and high touch", 2]) == 1
    assert before["accounts"]["counts"]["contracts"] > 6 and before["revenue"]["1 year(s)"]["current"]["start_mrr"]
    assert before["health"]["alerts"]["acted"] == 3
    assert before["playbooks"]["task count"] and before["playbooks"]["runs"] and before["playbooks"]["report year"]["playbooks"]

    # And the next night computes the same in both: the rules' ids were renamed, not copied.
    today = source.today()
    run_nightly(workspace=source, as_of=today)
    run_nightly(workspace=restored, as_of=today)
    assert differences(report_figures(source, days), report_figures(restored, days)) == []


@pytest.mark.django_db
def test_ids_inside_values_name_the_restored_rows(source, tmp_path):
    export_workspace(workspace=source, path=str(tmp_path / "src.zip"))
    restored = import_workspace(path=str(tmp_path / "src.zip"), slug="port-restored").workspace

    segment = Segment.objects.for_workspace(restored).get(name="Yui's book")
    owner_ids = segment.rules["conditions"][0]["value"]
    assert [m.user.username for m in restored_members(restored, owner_ids)] == ["port-src-csm1"]
    card = ScorecardVersion.objects.for_workspace(restored).get(scorecard__name="Large and high touch", number=2).scorecard
    large = Segment.objects.for_workspace(restored).get(name="Large in later stages")
    # The deleted segment stays a reference to nothing, never to some other row of this deployment.
    assert card.segments[0] == large.pk and card.segments[1] < 0


def restored_members(workspace, ids):
    from workspaces.models import Membership

    return list(Membership.objects.for_workspace(workspace).filter(pk__in=ids).select_related("user"))
