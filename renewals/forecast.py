"""The renewals overview (docs/renewals.md): the next 12 months by month, and the bubble chart.

Window: the lines that come up for renewal on a day in [today, today + 365 days). MRR up for renewal
is the MRR of those lines (the workspace currency); ARR = 12 × that MRR. **At risk**: the account's
health band is red, or it has no health (no score or "not enough data"); **expected**: green or yellow.
"""

import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import HealthBand

from .selectors import upcoming_renewals

HORIZON_DAYS = 365
BANDS = [HealthBand.GREEN, HealthBand.YELLOW, HealthBand.RED, HealthBand.NA]
AT_RISK = {HealthBand.RED, HealthBand.NA}


def band_of(account):
    """The band the overview files an account under: no score or no band counts as "not enough data"."""
    if account.health_score is None or not account.health_band:
        return HealthBand.NA
    return account.health_band if account.health_band in BANDS else HealthBand.NA


def window(today):
    return today, today + dt.timedelta(days=HORIZON_DAYS)


def months(today):
    """The first days of the calendar months the window touches (13 unless today is the 1st)."""
    first = today.replace(day=1)
    end = window(today)[1]
    result = []
    while first < end:
        result.append(first)
        first = (first + dt.timedelta(days=32)).replace(day=1)
    return result


def overview(*, workspace, today, lines=None):
    """{"months": [{month, label, mrr, by_band{band: mrr}, expected, at_risk, count}], "totals": {...},
    "bubbles": chart}. `lines`: the (filtered) upcoming lines; by default every line of the window."""
    start, end = window(today)
    if lines is None:
        lines = upcoming_renewals(workspace=workspace, start=start, end=end)
    else:
        lines = lines.filter(renews_on_day__gte=start, renews_on_day__lt=end)
    rows = {m: {"month": m, "label": date_format(m, "YEAR_MONTH_FORMAT"), "mrr": Decimal(0), "count": 0,
                "by_band": dict.fromkeys(BANDS, Decimal(0)), "expected": Decimal(0), "at_risk": Decimal(0)}
            for m in months(today)}
    by_account_day = defaultdict(lambda: {"mrr": Decimal(0), "lines": 0})
    accounts = {}
    for line in lines.order_by("renews_on_day", "id"):
        account = line.account
        band = band_of(account)
        row = rows[line.renews_on_day.replace(day=1)]
        row["mrr"] += line.mrr
        row["count"] += 1
        row["by_band"][band] += line.mrr
        row["at_risk" if band in AT_RISK else "expected"] += line.mrr
        key = (account.pk, line.renews_on_day)
        by_account_day[key]["mrr"] += line.mrr
        by_account_day[key]["lines"] += 1
        accounts[account.pk] = account
    month_rows = list(rows.values())
    totals = {"mrr": sum((r["mrr"] for r in month_rows), Decimal(0)),
              "count": sum(r["count"] for r in month_rows),
              "expected": sum((r["expected"] for r in month_rows), Decimal(0)),
              "at_risk": sum((r["at_risk"] for r in month_rows), Decimal(0)),
              "by_band": {b: sum((r["by_band"][b] for r in month_rows), Decimal(0)) for b in BANDS}}
    top = max((r["mrr"] for r in month_rows), default=Decimal(0))
    for r in month_rows:
        r["share"] = float(r["mrr"] / top) if top else 0.0
        r["segments"] = [{"band": b, "mrr": r["by_band"][b], "share": float(r["by_band"][b] / top) if top else 0.0}
                         for b in BANDS if r["by_band"][b]]
    month_chart = _month_chart(month_rows, top, workspace=workspace)
    points = [{"account": accounts[pk], "day": day, "days": (day - today).days, "arr": v["mrr"] * 12,
               "lines": v["lines"]} for (pk, day), v in by_account_day.items()]
    return {"months": month_rows, "totals": totals, "bubbles": bubble_chart(points, workspace=workspace),
            "month_chart": month_chart,
            "start": start, "end": end}


# --- the bubble chart: x = days to renewal, y = health score, area ∝ ARR --------------------------
WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 720, 320, 44, 16, 16, 36
MAX_RADIUS, MIN_RADIUS = 24.0, 2.5


def bubble_chart(points, *, workspace):
    """The geometry of the server-drawn SVG (templates/renewals/bubble_chart.html), or None when empty.

    A bubble per account and renewal day: x = days from today (0-365), y = health score (0-100; an
    account without a score sits on the "no health" strip under 0), radius ∝ √ARR so the area is
    proportional to ARR. Large bubbles are drawn first so small ones stay visible and clickable."""
    if not points:
        return None
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    top_arr = max(p["arr"] for p in points) or Decimal(1)
    bubbles = []
    for p in points:
        account = p["account"]
        score = account.health_score
        band = band_of(account)
        x = PAD_LEFT + plot_w * min(max(p["days"], 0), HORIZON_DAYS) / HORIZON_DAYS
        # No score: on the axis under 0, coloured grey ("not enough data").
        y = PAD_TOP + plot_h * (1 - min(max(score, 0), 100) / 100) if score is not None else PAD_TOP + plot_h
        radius = max(MIN_RADIUS, MAX_RADIUS * math.sqrt(float(p["arr"] / top_arr))) if top_arr else MIN_RADIUS
        title = _("%(account)s: renews %(day)s, in %(days)s days; ARR %(arr)s %(currency)s; health %(health)s") % {
            "account": account.name, "day": date_format(p["day"], "SHORT_DATE_FORMAT"), "days": p["days"],
            "arr": f"{p['arr']:,.0f}", "currency": workspace.currency,
            "health": "—" if score is None else f"{score:.0f}"}
        bubbles.append({"account": account, "x": x, "y": y, "r": radius, "band": band, "title": title,
                        "arr": p["arr"], "days": p["days"]})
    bubbles.sort(key=lambda b: (-b["r"], b["days"]))
    ticks_x = [{"x": PAD_LEFT + plot_w * d / HORIZON_DAYS, "label": d} for d in (0, 30, 60, 90, 120, 180, 270, 365)]
    ticks_y = [{"y": PAD_TOP + plot_h * (1 - v / 100), "label": v} for v in (0, 25, 50, 75, 100)]
    at_risk_big = sorted((b for b in bubbles if b["band"] in AT_RISK), key=lambda b: (-b["arr"], b["days"]))[:3]
    description = _("%(n)s renewals in the next 365 days by days to renewal and health; bubble size is ARR. "
                    "Largest at risk: %(names)s.") % {
        "n": len(bubbles), "names": ", ".join(b["account"].name for b in at_risk_big) or "—"}
    return {"bubbles": bubbles, "ticks_x": ticks_x, "ticks_y": ticks_y, "width": WIDTH, "height": HEIGHT,
            "left": PAD_LEFT, "right": WIDTH - PAD_RIGHT, "top": PAD_TOP, "bottom": PAD_TOP + plot_h,
            "axis_label_y": HEIGHT - 4, "x_label_x": PAD_LEFT + plot_w / 2, "y_label_y": PAD_TOP + plot_h / 2,
            "description": description}


# --- MRR up for renewal by month, stacked by health band ------------------------------------------
M_WIDTH, M_HEIGHT, M_LEFT, M_RIGHT, M_TOP, M_BOTTOM = 720, 200, 60, 10, 12, 28


def _month_chart(month_rows, top, *, workspace):
    """Stacked bars (green at the bottom, then yellow, red, no health); None when nothing renews."""
    if not top:
        return None
    plot_w, plot_h = M_WIDTH - M_LEFT - M_RIGHT, M_HEIGHT - M_TOP - M_BOTTOM
    slot = plot_w / len(month_rows)
    bars = []
    for i, row in enumerate(month_rows):
        x, base = M_LEFT + i * slot + slot * 0.15, M_TOP + plot_h
        segments = []
        for band in BANDS:
            value = row["by_band"][band]
            if not value:
                continue
            height = plot_h * float(value / top)
            base -= height
            segments.append({"band": band, "y": base, "height": max(height, 0.5), "mrr": value})
        bars.append({"x": x, "width": slot * 0.7, "center": x + slot * 0.35, "segments": segments,
                     "label": row["month"].strftime("%y/%m"), "row": row})
    description = "; ".join(f"{row['label']}: {row['mrr']:,.0f} {workspace.currency}" for row in month_rows)
    return {"bars": bars, "width": M_WIDTH, "height": M_HEIGHT, "left": M_LEFT, "right": M_WIDTH - M_RIGHT,
            "top": M_TOP, "bottom": M_TOP + plot_h, "axis_y": M_HEIGHT - 8, "max": top, "max_y": M_TOP + 4,
            "description": description}
