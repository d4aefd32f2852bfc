"""Is the score right? Churn within a horizon against the score of the day, on pandas.

For each observation day of a period (the first of each calendar month by default, or every N
days), every account scored that day is one observation: stored snapshots where the day has them,
an as-of recomputation where it has none (or always, for a what-if definition). The label is
"churned within the next `horizon_days` days" (30, 60 or 90). The AUC is the Mann-Whitney
statistic: the probability that an account that stayed scored higher than one that churned
(0.5 = chance, 1 = perfect); ties count half.

Per measure the report gives, besides the AUC of its points:
  * `value_auc`: the same statistic on the raw value (`v:KEY`): P(value of a stayer > value of a
    churner). Below 0.5 the accounts that churned had *higher* values, above 0.5 *lower* ones;
    `direction` says which ("higher"/"lower"/"none" within NO_DIFFERENCE of 0.5) and `sentence`
    says it in words;
  * `full_share` / `zero_share`: of the observations where the measure was available, the share
    that got 100 / 0 points; `top_share` the share of the most common points value. A measure
    whose `top_share` >= NOT_SEPARATING_SHARE gives (nearly) everyone the same points: "not
    separating";
  * `unavailable_share`: the share of all observations where the measure was not available (NaN
    points); flagged from UNAVAILABLE_FLAG_SHARE.
"""

import datetime as dt

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from accounts.models import Account, HealthBand
from usage.selectors import first_usage_day

from .definition import MEASURE_KINDS
from .models import HealthSnapshot
from .scoring import compute_scores

HORIZONS = (30, 60, 90)
HORIZON_DAYS = 90  # the default
MONTHLY = "month"  # observation step: the first of each calendar month
MAX_OBSERVATION_DAYS = 24
NOT_SEPARATING_SHARE = 0.85
UNAVAILABLE_FLAG_SHARE = 0.2
NO_DIFFERENCE = 0.02


def parse_step(value):
    """"month" (default, also for empty) or a whole number of days 1-365; ValueError otherwise."""
    if value in (None, "", MONTHLY):
        return MONTHLY
    if isinstance(value, bool):
        raise ValueError(value)
    number = int(str(value).strip()) if not isinstance(value, int) else value
    if not 1 <= number <= 365:
        raise ValueError(value)
    return number


def parse_horizon(value):
    if value in (None, ""):
        return HORIZON_DAYS
    if isinstance(value, bool):
        raise ValueError(value)
    number = int(str(value).strip()) if not isinstance(value, int) else value
    if number not in HORIZONS:
        raise ValueError(value)
    return number


def default_period(*, workspace, start=None, end=None, horizon_days=HORIZON_DAYS):
    """(start, end) of a back-test: by default the nine months that end `horizon_days` ago, the last
    day whose churn outcome over the horizon is known; the start no earlier than 30 days after the
    first day with product usage (before it, usage measures have nothing to score), if that leaves a
    period at all."""
    end = end or workspace.today() - dt.timedelta(days=horizon_days)
    if start is None:
        start = end - dt.timedelta(days=270)
        first = first_usage_day(workspace=workspace)
        if first is not None and start < first + dt.timedelta(days=30) <= end:
            start = first + dt.timedelta(days=30)
    return start, end


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


def observation_days(start, end, step=MONTHLY):
    """The observation days in [start, end]: the first of each month, or every `step` days back from
    `end`; at most MAX_OBSERVATION_DAYS, the latest ones."""
    if start > end:
        return []
    days = []
    if step == MONTHLY:
        day = dt.date(start.year, start.month, 1)
        if day < start:
            day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        while day <= end:
            days.append(day)
            day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return days[-MAX_OBSERVATION_DAYS:]
    day = end
    while day >= start and len(days) < MAX_OBSERVATION_DAYS:
        days.append(day)
        day -= dt.timedelta(days=step)
    return sorted(days)


def _from_snapshots(workspace, day):
    rows = []
    for snap in HealthSnapshot.objects.for_workspace(workspace).filter(day=day).values(
            "account_id", "total", "band", "measures"):
        row = {"account_id": snap["account_id"], "total": snap["total"], "band": snap["band"]}
        for key, entry in (snap["measures"] or {}).items():
            row[f"p:{key}"] = entry.get("points")
            row[f"v:{key}"] = entry.get("value")
            row[f"h:{key}"] = bool(entry.get("no_history"))
        rows.append(row)
    return pd.DataFrame(rows)


def observations(*, workspace, start, end, step=MONTHLY, definition=None, horizon_days=HORIZON_DAYS):
    """One row per (account, observation day): total, band, each measure's points (`p:KEY`) and raw
    value (`v:KEY`) and the label `churned` (within `horizon_days` after the day)."""
    parts = []
    for day in observation_days(start, end, step):
        frame = None
        if definition is None:
            frame = _from_snapshots(workspace, day)
            source = "snapshot"
        if frame is None or frame.empty:
            scored, _signals = compute_scores(workspace=workspace, as_of=day, definition=definition)
            if scored.empty:
                continue
            keep = ["total", "band"] + [c for c in scored.columns if c.startswith(("p:", "v:", "h:"))]
            frame = scored[keep].reset_index(names="account_id")
            source = "recomputed"
        frame["day"] = day
        frame["source"] = source
        parts.append(frame)
    if not parts:
        return pd.DataFrame(columns=["account_id", "day", "total", "band", "churned", "source"])
    data = pd.concat(parts, ignore_index=True)
    return label(data, workspace=workspace, horizon_days=horizon_days)


def label(data, *, workspace, horizon_days):
    """Add `churned_on` and `churned`: churned after the day and at most `horizon_days` after it."""
    churn = pd.DataFrame.from_records(
        list(Account.objects.for_workspace(workspace).filter(churned_on__isnull=False).values("id", "churned_on")),
        columns=["id", "churned_on"]).set_index("id")["churned_on"]
    churned_on = pd.to_datetime(data["account_id"].map(churn))
    day = pd.to_datetime(data["day"])
    data["churned_on"] = churned_on.dt.date.where(churned_on.notna(), None)
    data["churned"] = churned_on.notna() & (churned_on > day) & (churned_on <= day + pd.Timedelta(days=horizon_days))
    return data


def direction_of(value_auc):
    """"lower": churners had lower values; "higher": churners had higher ones; "none": no difference."""
    if value_auc is None or abs(value_auc - 0.5) <= NO_DIFFERENCE:
        return "none"
    return "lower" if value_auc > 0.5 else "higher"


def direction_sentence(direction, label):
    if direction == "higher":
        return _("Accounts that churned had higher “%(measure)s” than those that stayed.") % {"measure": label}
    if direction == "lower":
        return _("Accounts that churned had lower “%(measure)s” than those that stayed.") % {"measure": label}
    return _("“%(measure)s” did not differ between accounts that churned and those that stayed.") % {
        "measure": label}


def measure_rows(data, labels=None):
    """Per measure: AUC of points and of the raw value with its direction, points shares, flags."""
    labels = labels or {}
    rows = []
    total = len(data)
    for column in [c for c in data.columns if c.startswith("p:")]:
        key = column[2:]
        points = pd.to_numeric(data[column], errors="coerce")
        values = pd.to_numeric(data[f"v:{key}"], errors="coerce") if f"v:{key}" in data else points * np.nan
        available = points.dropna()
        n = len(available)
        value_auc = auc(values, data["churned"])
        direction = direction_of(value_auc)
        top_share = float(available.value_counts(normalize=True).iloc[0]) if n else None
        unavailable = (total - n) / total if total else None
        # Of those, the share whose input nobody had recorded yet on the day (never read from today).
        no_history = data[f"h:{key}"].fillna(False).astype(bool) if f"h:{key}" in data else None
        no_history_share = float(no_history.mean()) if no_history is not None and total else 0.0
        name = labels.get(key, key)
        rows.append({
            "key": key, "label": name, "auc": auc(points, data["churned"]), "n": n,
            "value_auc": value_auc, "direction": direction, "sentence": direction_sentence(direction, name),
            "full_share": float((available == 100).mean()) if n else None,
            "zero_share": float((available == 0).mean()) if n else None,
            "top_share": top_share,
            "not_separating": top_share is not None and top_share >= NOT_SEPARATING_SHARE,
            "unavailable_share": unavailable,
            "unavailable_flag": unavailable is not None and unavailable >= UNAVAILABLE_FLAG_SHARE,
            "no_history_share": no_history_share,
        })
    rows.sort(key=lambda m: -abs((m["auc"] if m["auc"] is not None else 0.5) - 0.5))
    return rows


def report(*, workspace, start, end, step=MONTHLY, definition=None, labels=None, horizon_days=HORIZON_DAYS,
           step_days=None):
    """The back-test: churn per band, AUC of the total and of each measure, churned while green."""
    if step_days is not None:
        step = step_days
    data = observations(workspace=workspace, start=start, end=end, step=step, definition=definition,
                        horizon_days=horizon_days)
    result = {"start": start, "end": end, "step": step, "step_days": step if step != MONTHLY else None,
              "horizon_days": horizon_days,
              "observations": len(data), "days": sorted({d for d in data["day"]}) if len(data) else [],
              "churned": int(data["churned"].sum()) if len(data) else 0, "auc": None, "bands": [],
              "measures": [], "churned_while_green": [], "recomputed_days": [], "distribution": [],
              "churned_accounts": int(data.loc[data["churned"].astype(bool), "account_id"].nunique())
              if len(data) else 0}
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
    result["measures"] = measure_rows(data, labels)
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
        "start": iso(result["start"]), "end": iso(result["end"]), "step": str(result["step"]),
        "step_days": result["step_days"],
        "horizon_days": result["horizon_days"], "observations": result["observations"],
        "churned_accounts": result["churned_accounts"],
        "churned": result["churned"], "auc": result["auc"], "bands": result["bands"],
        "measures": result["measures"], "days": [iso(d) for d in result["days"]],
        "recomputed_days": [iso(d) for d in result["recomputed_days"]],
        "churned_while_green": [{**row, "day": iso(row["day"]), "churned_on": iso(row["churned_on"])}
                                for row in result["churned_while_green"]],
        "distribution": result["distribution"],
    }


def what_if(*, workspace, definition, start, end, step_days=None, scorecard=None, step=MONTHLY,
            horizon_days=HORIZON_DAYS):
    """Apply an edited (unsaved) definition to today's data and to the back-test, next to the current rules.

    With `scorecard`, today's comparison is limited to the accounts that scorecard applies to; the
    back-test applies the edit to every account of the period.
    """
    from .definition import validate_definition

    if step_days is not None:
        step = step_days
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
        "current_backtest": report(workspace=workspace, start=start, end=end, step=step,
                                   horizon_days=horizon_days),
        "new_backtest": report(workspace=workspace, start=start, end=end, step=step, definition=clean,
                               labels=measure_labels(clean), horizon_days=horizon_days),
    }
