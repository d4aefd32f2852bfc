"""Suggested weights: the scorecard's measures fitted to the workspace's own churn history, validated
out of time.

Method (docs/health.md, "Suggested weights"):
  1. Observations as in the back-test (backtest.observations), every account scored with the
     scorecard's current definition as of each observation day; the label is "churned within the
     horizon".
  2. Out-of-time split: the observation days are sorted; the earlier half (the first ⌊n/2⌋ days)
     is the training half, the later half the test half. Nothing of the test half is used to fit.
  3. Features: each measure's points (0-100). A point that is not available (NaN) is filled with
     the training half's mean points of that measure (an observation with no data is "average").
  4. Model: logistic regression with an L2 penalty (scikit-learn, C=REGULARISATION_C) on the
     standardised points, churn = 1. A coefficient per point is the standardised one divided by
     the training half's standard deviation of the points.
  5. Weights: a measure's effective weight is max(0, -coefficient per point): a measure whose
     points rise with churn gets 0 (a scorecard cannot say "more points = worse"). Within the
     current groups, a group's weight is the sum of its measures' effective weights (as a
     percentage of all, 1 decimal) and a measure's weight within its group is its share of the
     group's sum (percentage, 1 decimal). Groups and measures stay as they are; only weights change.
  6. Validation: the current and the suggested scorecard are scored on the test half with the
     scorecard's own arithmetic (groups, "not available" spread over the rest of the group,
     minimum available weight) and compared by AUC with a 95% interval (Hanley & McNeil 1982), on
     the observations where both have a total (a weighting can leave an account without enough data).
     The interval treats observations as independent; the same account observed on several days
     is not, so it is on the narrow side.
  7. Refusal: fewer than MIN_CHURNS accounts churned (within the horizon of an observation day)
     in the period, or none in either half.
"""

import math

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from .backtest import HORIZON_DAYS, MONTHLY, auc, observations
from .definition import iter_measures, measure_label, validate_definition

MIN_CHURNS = 30
REGULARISATION_C = 1.0
Z_95 = 1.959964


def hanley_mcneil(value, positives, negatives):
    """95% interval of an AUC (Hanley & McNeil 1982), clipped to [0, 1]; None without an AUC."""
    if value is None or not positives or not negatives:
        return None
    q1 = value / (2 - value)
    q2 = 2 * value * value / (1 + value)
    variance = (value * (1 - value) + (positives - 1) * (q1 - value ** 2)
                + (negatives - 1) * (q2 - value ** 2)) / (positives * negatives)
    half = Z_95 * math.sqrt(max(variance, 0.0))
    return [max(0.0, value - half), min(1.0, value + half)]


def score_points(frame, definition):
    """The scorecard's total from the `p:KEY` columns of `frame`, as scoring.score_frame computes it."""
    weighted = pd.Series(0.0, index=frame.index)
    used = pd.Series(0.0, index=frame.index)
    coverage = pd.Series(0.0, index=frame.index)
    configured = sum(g["weight"] for g in definition["groups"] if any(m["weight"] > 0 for m in g["measures"]))
    for group in definition["groups"]:
        measures = [m for m in group["measures"] if m["weight"] > 0]
        if not measures or group["weight"] <= 0:
            continue
        g_weighted = pd.Series(0.0, index=frame.index)
        g_available = pd.Series(0.0, index=frame.index)
        for m in measures:
            points = pd.to_numeric(frame.get(f"p:{m['key']}", pd.Series(np.nan, index=frame.index)),
                                   errors="coerce")
            g_weighted += points.fillna(0) * m["weight"]
            g_available += points.notna() * m["weight"]
        score = g_weighted / g_available.where(g_available > 0)
        weighted += score.fillna(0) * group["weight"]
        used += score.notna() * group["weight"]
        coverage += g_available / sum(m["weight"] for m in measures) * group["weight"]
    total = weighted / used.where(used > 0)
    share = coverage / configured if configured else coverage
    return total.where(share >= definition["min_available_weight"] - 1e-9)


def _auc_with_interval(scores, churned):
    frame = pd.DataFrame({"s": scores, "c": churned}).dropna(subset=["s"])
    positives = int(frame["c"].sum())
    value = auc(frame["s"], frame["c"])
    return {"auc": value, "ci": hanley_mcneil(value, positives, len(frame) - positives),
            "n": len(frame), "churned": positives}


def split_days(days):
    """(earlier, later): the sorted observation days cut in two; the later half takes the odd one."""
    days = sorted(set(days))
    cut = len(days) // 2
    return days[:cut], days[cut:]


def evaluate(data, definition, days, *, also=None):
    """AUC of `definition`'s total on the observations of `days`; with `also` (another definition),
    only on the observations where both have a total, so that two weightings are compared on one set."""
    subset = data[data["day"].isin(days)]
    scores = score_points(subset, definition)
    if also is not None:
        scores = scores.where(score_points(subset, also).notna())
    return _auc_with_interval(scores, subset["churned"].astype(bool))


def fit_weights(train, definition):
    """(effective weight per measure key, coefficient per point per key): step 3-5 of the module doc."""
    from sklearn.linear_model import LogisticRegression

    keys = [m["key"] for _g, m in iter_measures(definition)]
    features = pd.DataFrame({k: pd.to_numeric(train.get(f"p:{k}"), errors="coerce") for k in keys},
                            index=train.index)
    means = features.mean()
    features = features.fillna(means).fillna(0)
    stds = features.std(ddof=0)
    usable = [k for k in keys if stds[k] > 0]
    coefficients = dict.fromkeys(keys, 0.0)
    if usable:
        standardised = (features[usable] - features[usable].mean()) / stds[usable]
        model = LogisticRegression(C=REGULARISATION_C, max_iter=1000)
        model.fit(standardised.to_numpy(), train["churned"].astype(int).to_numpy())
        for key, coef in zip(usable, model.coef_[0], strict=True):
            coefficients[key] = float(coef / stds[key])
    effective = {k: max(0.0, -c) for k, c in coefficients.items()}
    return effective, coefficients


def weights_definition(definition, effective):
    """The definition with weights from the effective ones, within its groups (module doc, step 5)."""
    total = sum(effective.values())
    proposal = {**definition, "groups": []}
    for group in definition["groups"]:
        g_sum = sum(effective.get(m["key"], 0.0) for m in group["measures"])
        measures = [{**m, "weight": round(effective.get(m["key"], 0.0) / g_sum * 100, 1) if g_sum > 0 else 0.0}
                    for m in group["measures"]]
        proposal["groups"].append({**group, "weight": round(g_sum / total * 100, 1), "measures": measures})
    return validate_definition(proposal)


def suggest_weights(*, workspace, definition, start, end, step=MONTHLY, horizon_days=HORIZON_DAYS):
    """The proposal (module doc); `refused` is None, or says why there is none (then only the counts)."""
    definition = validate_definition(definition)
    data = observations(workspace=workspace, start=start, end=end, step=step, definition=definition,
                        horizon_days=horizon_days)
    churns = int(data.loc[data["churned"].astype(bool), "account_id"].nunique()) if len(data) else 0
    base = {"refused": None, "horizon_days": horizon_days, "step": step, "start": start, "end": end,
            "churns": churns, "observations": len(data)}
    if churns < MIN_CHURNS:
        return {**base, "refused": _(
            "Only %(n)s accounts churned within %(h)s days of an observation day in this period; weights are "
            "suggested from %(min)s churns upwards. Choose a longer period or a longer horizon.") % {
                "n": churns, "h": horizon_days, "min": MIN_CHURNS}}
    earlier, later = split_days(data["day"])
    train = data[data["day"].isin(earlier)]
    test = data[data["day"].isin(later)]
    if not earlier or not train["churned"].any() or not test["churned"].any():
        return {**base, "refused": _(
            "Both halves of the period need churns: the earlier half to fit, the later to check. Choose a "
            "longer period.")}
    effective, coefficients = fit_weights(train, definition)
    if sum(effective.values()) <= 0:
        return {**base, "refused": _("No measure is associated with staying: there is nothing to weight.")}
    proposal = weights_definition(definition, effective)
    current = evaluate(data, definition, later, also=proposal)
    suggested = evaluate(data, proposal, later, also=definition)
    labels = {m["key"]: measure_label(m) for _g, m in iter_measures(definition)}
    groups_before = {g["key"]: g for g in definition["groups"]}
    measures = []
    for group in proposal["groups"]:
        before = {m["key"]: m["weight"] for m in groups_before[group["key"]]["measures"]}
        for m in group["measures"]:
            measures.append({"key": m["key"], "label": labels[m["key"]], "group": group["key"],
                             "group_label": group["label"], "coefficient": coefficients[m["key"]],
                             "current_weight": before.get(m["key"]), "suggested_weight": m["weight"]})
    return {
        **base, "definition": proposal,
        "train_days": earlier, "test_days": later,
        "train": {"observations": len(train), "churned": int(train["churned"].sum()),
                  "churned_accounts": int(train.loc[train["churned"].astype(bool), "account_id"].nunique())},
        "test": {"observations": len(test), "churned": int(test["churned"].sum()),
                 "churned_accounts": int(test.loc[test["churned"].astype(bool), "account_id"].nunique())},
        "current": current, "suggested": suggested, "measures": measures,
        "groups": [{"key": g["key"], "label": g["label"], "current_weight": groups_before[g["key"]]["weight"],
                    "suggested_weight": g["weight"]} for g in proposal["groups"]],
    }


def proposal_payload(proposal):
    def iso(value):
        return value.isoformat() if hasattr(value, "isoformat") else value

    payload = {k: v for k, v in proposal.items() if k not in ("train_days", "test_days", "start", "end", "step")}
    payload.update({"step": str(proposal["step"]), "start": iso(proposal["start"]), "end": iso(proposal["end"])})
    if "train_days" in proposal:
        payload["train_days"] = [iso(d) for d in proposal["train_days"]]
        payload["test_days"] = [iso(d) for d in proposal["test_days"]]
    return payload
