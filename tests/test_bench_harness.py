"""The benchmark harness's pure pieces: refusal on SQLite, report rendering, regression check.

No timings here: figures are built by hand and only their bookkeeping is checked.
"""

import pytest

from bench.cli import main as bench_main
from bench.cli import smoke_database_url
from bench.env import BenchError, database_url, require_postgres
from bench.parts.common import percentile
from bench.report import render
from bench.results import Figure, Results, Target, compare, not_available

AT_MOST_2X = Target(on="ratio", op="<=", limit=2.0, label="≤ 2x")
AT_LEAST_10K = Target(on="value", op=">=", limit=10_000, label="≥ 10,000 events/s")


def nightly(value, baseline=4.0):
    return Figure(part="nightly", name="all steps together", value=value, unit="s", baseline=baseline,
                  baseline_name="reference SQL", targets=[AT_MOST_2X])


def ingest(value, baseline=50_000.0):
    return Figure(part="ingest", name="events/s through POST /v1/batch", value=value, unit="events/s",
                  baseline=baseline, baseline_name="bare INSERT", better="higher", targets=[AT_LEAST_10K])


@pytest.mark.parametrize("url", ["sqlite:///bench.db", "sqlite://", "mysql://root@127.0.0.1/cs"])
def test_refuses_anything_but_postgresql(url):
    with pytest.raises(BenchError, match="PostgreSQL only"):
        require_postgres(url)


def test_accepts_postgresql_and_defaults_to_its_own_database(monkeypatch):
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)
    assert database_url().endswith("/cs_bench")
    assert require_postgres("postgresql://u@db:5432/bench") == "postgresql://u@db:5432/bench"
    with pytest.raises(BenchError, match="names no database"):
        require_postgres("postgres://postgres@127.0.0.1:5432/")


def test_cli_exits_with_a_clear_message_on_sqlite(capsys):
    assert bench_main(["run", "--database-url", "sqlite:///x.db"]) == 2
    assert "PostgreSQL only" in capsys.readouterr().err


def test_ratio_and_targets_follow_the_figure_direction():
    assert nightly(6.0).ratio == pytest.approx(1.5)
    assert nightly(6.0).target_met is True
    assert nightly(9.0).target_met is False
    assert ingest(12_000).target_met is True
    assert ingest(9_000).target_met is False
    assert not_available("web", "coverage report", "no segments app").target_met is None
    assert Figure(part="web", name="x", value=1.0, unit="s").target_met is None


def test_results_round_trip_through_json(tmp_path):
    results = Results(meta={"scale": {"accounts": 10}}, figures=[nightly(6.0), ingest(12_000)], notes=["n"])
    path = tmp_path / "results.json"
    results.save(path)
    loaded = Results.load(path)
    assert [f.key for f in loaded.figures] == [f.key for f in results.figures]
    assert loaded.figures[1].targets[0] == AT_LEAST_10K
    assert loaded.figures[0].ratio == pytest.approx(1.5)


def test_report_states_every_figure_with_baseline_ratio_and_verdict():
    results = Results(
        meta={"date": "2026-11-23", "cpu_count": 2, "memory_gib": 23.4, "python": "3.11.7", "django": "5.2",
              "postgresql": "15.2", "scale": {"accounts": 100_000, "events": 10_000_000}, "as_of": "2026-11-23"},
        figures=[nightly(9.0), ingest(12_000),
                 not_available("import", "rows/s, commit", "the imports app has not landed")],
        profiles={"nightly step x": "ncalls tottime\n1 2.0 slow_function"},
    )
    text = render(results)
    assert "100,000 accounts" in text and "10,000,000 usage events" in text
    assert "| all steps together | 9.00 s | 4.00 s (reference SQL) | 2.25x | ≤ 2x | **not met** |" in text
    assert "| events/s through POST /v1/batch | 12,000 events/s" in text and "| met |" in text
    assert "not available" in text and "the imports app has not landed" in text
    assert "## Targets not met, and why" in text and "slow_function" in text


def test_compare_flags_ratios_more_than_25_percent_worse_in_either_direction():
    old = Results(figures=[nightly(6.0), ingest(40_000)])  # ratios 1.5 (lower is better), 0.8 (higher)
    same_ish = Results(figures=[nightly(7.0), ingest(35_000)])  # 1.17x and 1.14x worse: noise
    assert compare(old, same_ish) == ([], [])
    worse = Results(figures=[nightly(8.0), ingest(30_000)])  # 1.33x and 1.33x worse
    regressions, _ = compare(old, worse)
    assert [r.key for r in regressions] == ["nightly: all steps together", "ingest: events/s through POST /v1/batch"]
    assert "33% worse" in regressions[0].describe()
    better = Results(figures=[nightly(3.0), ingest(60_000)])
    assert compare(old, better) == ([], [])


def test_compare_lists_figures_it_cannot_compare():
    old = Results(figures=[nightly(6.0)])
    new = Results(figures=[not_available("nightly", "all steps together", "gone"), ingest(30_000)])
    regressions, unmatched = compare(old, new)
    assert regressions == []
    assert unmatched == ["nightly: all steps together", "ingest: events/s through POST /v1/batch"]


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile([7.0], 95) == 7.0


def test_smoke_never_rebuilds_the_full_scale_database(monkeypatch):
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)
    assert smoke_database_url(None).endswith("/cs_bench_smoke")
    monkeypatch.setenv("BENCH_DATABASE_URL", "postgres://u@db:5432/cs_bench")
    assert smoke_database_url(None) == "postgres://u@db:5432/cs_bench_smoke"
    assert smoke_database_url("postgres://u@db:5432/mine") == "postgres://u@db:5432/mine"


def test_usage_scaling_keeps_each_volume_in_its_own_database():
    from bench.parts.usage_scaling import database_for

    base = "postgres://u@db:5432/cs_bench"
    assert database_for(base, 10_000_000) == base  # the main benchmark database's own volume
    assert database_for(base, 5_000_000) == "postgres://u@db:5432/cs_bench_5m"
    assert database_for(base, 20_000_000) == "postgres://u@db:5432/cs_bench_20m"


def test_usage_scaling_refuses_sqlite_too(capsys):
    assert bench_main(["usage-scaling", "--database-url", "sqlite:///bench.db"]) == 2
    assert "PostgreSQL" in capsys.readouterr().err
