"""Is the score right? Churn within 90 days against the score of the day, on pandas.

For each observation day of a period (every `step_days`), every account scored that day is one
observation: stored snapshots where the day has them, an as-of recomputation where it has none
(or always, for a what-if definition). The label is "churned within the next 90 days". The AUC is
the Mann-Whitney statistic: the probability that an account that stayed scored higher than one
that churned (0.5 = chance, 1 = perfect); ties count half.
"""

import datetime as dt

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from accounts.models import Account, HealthBand

from .definition import MEASURE_KINDS
from .models import HealthSnapshot
from .scoring import compute_scores

HORIZON_DAYS = 90
MAX_OBSERVATION_DAYS = 24


def default_period(*, workspace, start=None, end=None):
    """(start, end) of a back-test: by default the nine months that end 90 days ago, the last day
    whose 90-day churn outcome is known."""
    end = end or workspace.today() - dt.timedelta(days=HORIZON_DAYS)
    return start or end - dt.timedelta(days=270), end


def auc(scores, churned):
    """P(score of a stayer > score of a churner), ties half. None when a class is empty."""
    frame = pd.DataFrame({"score": scores, "churned": churned}).dropna(subset=["score"])
    positives = int(frame["churned"].sum())
    negatives = len(frame) - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = frame["score"].rank(method="average")
    stayer_rank_sum = ranks[~frame["churned"].astype(bool)].sum()
    u = stayer_rank_sum - negatives * (negatives + 1) / 2
    return float(u / (negatives * positives))


def observation_days(start, end, step_days):
    if start > end:
        return []
    days, day = [], end
    while day >= start and len(days) < MAX_OBSERVATION_DAYS:
        days.append(day)
        day -= dt.timedelta(days=step_days)
    return sorted(days)


def _from_snapshots(workspace, day):
    rows = []
    for snap in HealthSnapshot.objects.for_workspace(workspace).filter(day=day).values(
            "account_id", "total", "band", "measures"):
        row = {"account_id": snap["account_id"], "total": snap["total"], "band": snap["band"]}
        for key, entry in (snap["measures"] or {}).items():
            row[f"p:{key}"] = entry.get("points")
        rows.append(row)
    return pd.DataFrame(rows)


def observations(*, workspace, start, end, step_days=30, definition=None):
    """One row per (account, observation day): total, band, each measure's points and the label."""
    parts = []
    for day in observation_days(start, end, step_days):
        frame = None
        if definition is None:
            frame = _from_snapshots(workspace, day)
            source = "snapshot"
        if frame is None or frame.empty:
            scored, _signals = compute_scores(workspace=workspace, as_of=day, definition=definition)
            if scored.empty:
                continue
            keep = ["total", "band"] + [c for c in scored.columns if c.startswith("p:")]
            frame = scored[keep].reset_index(names="account_id")
            source = "recomputed"
        frame["day"] = day
        frame["source"] = source
        parts.append(frame)
    if not parts:
        return pd.DataFrame(columns=["account_id", "day", "total", "band", "churned", "source"])
    data = pd.concat(parts, ignore_index=True)
    churn = pd.DataFrame.from_records(
        list(Account.objects.for_workspace(workspace).filter(churned_on__isnull=False).values("id", "churned_on")),
        columns=["id", "churned_on"]).set_index("id")["churned_on"]
    churned_on = pd.to_datetime(data["account_id"].map(churn))
    day = pd.to_datetime(data["day"])
    data["churned_on"] = churned_on.dt.date.where(churned_on.notna(), None)
    data["churned"] = churned_on.notna() & (churned_on > day) & (churned_on <= day + pd.Timedelta(days=HORIZON_DAYS))
    return data


def report(*, workspace, start, end, step_days=30, definition=None, labels=None):
    """The back-test: churn per band, AUC of the total and of each measure, churned while green."""
    data = observations(workspace=workspace, start=start, end=end, step_days=step_days, definition=definition)
    result = {"start": start, "end": end, "step_days": step_days, "horizon_days": HORIZON_DAYS,
              "observations": len(data), "days": sorted({d for d in data["day"]}) if len(data) else [],
              "churned": int(data["churned"].sum()) if len(data) else 0, "auc": None, "bands": [],
              "measures": [], "churned_while_green": [], "recomputed_days": [], "distribution": []}
    if data.empty:
        return result
    result["recomputed_days"] = sorted({d for d, s in zip(data["day"], data["source"], strict=True)
                                        if s == "recomputed"})
    result["auc"] = auc(data["total"], data["churned"])
    for band in [HealthBand.GREEN, HealthBand.YELLOW, HealthBand.RED, HealthBand.NA]:
        subset = data[data["band"] == band.value]
        result["bands"].append({"band": band.value, "label": str(band.label), "n": len(subset),
                                "churned": int(subset["churned"].sum()),
                                "rate": float(subset["churned"].mean()) if len(subset) else None})
    labels = labels or {}
    for column in [c for c in data.columns if c.startswith("p:")]:
        key = column[2:]
        scores = pd.to_numeric(data[column], errors="coerce")
        result["measures"].append({"key": key, "label": labels.get(key, key), "auc": auc(scores, data["churned"]),
                                   "n": int(scores.notna().sum())})
    result["measures"].sort(key=lambda m: -abs((m["auc"] if m["auc"] is not None else 0.5) - 0.5))
    green = data[(data["band"] == HealthBand.GREEN.value) & data["churned"]]
    names = dict(Account.objects.for_workspace(workspace).filter(pk__in=list(green["account_id"].unique()))
                 .values_list("pk", "name"))
    result["churned_while_green"] = [
        {"account_id": int(r.account_id), "name": names.get(r.account_id, ""), "day": r.day,
         "score": float(r.total), "churned_on": r.churned_on}
        for r in green.sort_values(["total"], ascending=False).itertuples()
    ][:100]
    result["distribution"] = distribution(data[data["day"] == data["day"].max()]["total"])
    return result


def distribution(totals):
    """Counts of scores per 10-point bucket, plus "not enough data", for a bar chart."""
    totals = pd.to_numeric(pd.Series(totals), errors="coerce")
    buckets = np.minimum((totals.dropna() // 10).astype(int), 9)
    counts = buckets.value_counts()
    bars = [{"label": f"{i * 10}", "value": int(counts.get(i, 0))} for i in range(10)]
    bars.append({"label": _("n/a"), "value": int(totals.isna().sum())})
    return bars


def measure_labels(definition):
    return {m["key"]: (m.get("label") or str(MEASURE_KINDS[m["kind"]][0]))
            for g in definition["groups"] for m in g["measures"]}


def backtest_payload(result):
    """The report as JSON-friendly data (dates as ISO strings)."""
    def iso(value):
        return value.isoformat() if hasattr(value, "isoformat") else value

    return {
        "start": iso(result["start"]), "end": iso(result["end"]), "step_days": result["step_days"],
        "horizon_days": result["horizon_days"], "observations": result["observations"],
        "churned": result["churned"], "auc": result["auc"], "bands": result["bands"],
        "measures": result["measures"], "days": [iso(d) for d in result["days"]],
        "recomputed_days": [iso(d) for d in result["recomputed_days"]],
        "churned_while_green": [{**row, "day": iso(row["day"]), "churned_on": iso(row["churned_on"])}
                                for row in result["churned_while_green"]],
        "distribution": result["distribution"],
    }


def what_if(*, workspace, definition, start, end, step_days=30, scorecard=None):
    """Apply an edited (unsaved) definition to today's data and to the back-test, next to the current rules.

    With `scorecard`, today's comparison is limited to the accounts that scorecard applies to; the
    back-test applies the edit to every account of the period.
    """
    from .definition import validate_definition

    clean = validate_definition(definition)
    today = workspace.today()
    current, _signals = compute_scores(workspace=workspace, as_of=today)
    if scorecard is not None and not current.empty:
        current = current[current["version"].map(lambda v: v is not None and v.scorecard_id == scorecard.pk)]
    proposed, _signals = compute_scores(workspace=workspace, as_of=today, definition=clean)
    proposed = proposed.reindex(current.index)

    def bands(frame):
        counts = frame["band"].value_counts() if len(frame) else {}
        return {b.value: int(counts.get(b.value, 0)) for b in HealthBand}

    return {
        "definition": clean, "accounts": len(current),
        "current_bands": bands(current), "new_bands": bands(proposed),
        "current_distribution": distribution(current["total"] if len(current) else []),
        "new_distribution": distribution(proposed["total"] if len(proposed) else []),
        "changed_band": int((current["band"] != proposed["band"]).sum()) if len(current) else 0,
        "current_backtest": report(workspace=workspace, start=start, end=end, step_days=step_days),
        "new_backtest": report(workspace=workspace, start=start, end=end, step_days=step_days, definition=clean,
                               labels=measure_labels(clean)),
    }
