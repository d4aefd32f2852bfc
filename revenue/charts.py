"""The geometry of the revenue charts, drawn server-side as inline SVG (templates/revenue/_waterfall.html,
templates/revenue/_monthly.html). Every movement bar links to the accounts behind it."""

from django.utils.translation import gettext as _

from ui.templatetags.formatting import money

from .forms import kind_labels
from .selectors import GAINS, LOSSES

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 640, 220, 70, 10, 18, 30


def _scale(low, high):
    if high == low:
        high = low + 1
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def y(value):
        return PAD_TOP + plot_h * float(high - value) / float(high - low)

    return y


def waterfall(step, *, currency, link):
    """Start MRR, + new, + expansion, + reactivation, − contraction, − churn, end MRR: floating bars.
    `link(kind)` is the drill-down URL of a movement. None when there is no MRR at all."""
    labels = kind_labels()
    levels, level = [], step["start_mrr"]
    bars = [{"key": "start", "label": _("Start MRR"), "low": 0, "high": level, "value": level, "css": "bar-total"}]
    for kind in (*GAINS, *LOSSES):
        amount = step[kind]
        new_level = level + amount if kind in GAINS else level - amount
        bars.append({"key": kind, "label": labels[kind], "low": min(level, new_level), "high": max(level, new_level),
                     "value": amount if kind in GAINS else -amount, "count": step[f"{kind}_count"],
                     "css": f"bar-{kind}", "href": link(kind)})
        levels.append(new_level)
        level = new_level
    bars.append({"key": "end", "label": _("End MRR"), "low": 0, "high": step["end_mrr"], "value": step["end_mrr"],
                 "css": "bar-total"})
    top = max(max(bar["high"] for bar in bars), 0)
    if not top:
        return None
    y = _scale(0, top)
    slot = (WIDTH - PAD_LEFT - PAD_RIGHT) / len(bars)
    for index, bar in enumerate(bars):
        bar["x"] = PAD_LEFT + index * slot + slot * 0.15
        bar["width"] = slot * 0.7
        bar["center"] = bar["x"] + bar["width"] / 2
        bar["top"] = y(bar["high"])
        bar["height"] = max(y(bar["low"]) - bar["top"], 1)
        bar["text"] = money(bar["value"], currency) if bar["key"] in ("start", "end") else (
            ("+" if bar["value"] >= 0 else "") + money(bar["value"], currency))
        bar["label_y"] = bar["top"] - 4
    description = "; ".join(f"{bar['label']}: {bar['text']}" for bar in bars)
    return {"bars": bars, "width": WIDTH, "height": HEIGHT, "left": PAD_LEFT, "right": WIDTH - PAD_RIGHT,
            "zero": y(0), "axis_y": HEIGHT - 10, "top_label": money(top, currency), "top_y": y(top) + 3,
            "description": description}


def monthly(steps, *, currency, link):
    """Per month: the gains stacked above zero, the losses below, each segment a link to its accounts.
    None when nothing moved."""
    labels = kind_labels()
    highs = [sum(step[kind] for kind in GAINS) for step in steps]
    lows = [sum(step[kind] for kind in LOSSES) for step in steps]
    high, low = max(highs, default=0), max(lows, default=0)
    if not high and not low:
        return None
    y = _scale(-low, high)
    slot = (WIDTH - PAD_LEFT - PAD_RIGHT) / len(steps)
    groups = []
    for index, step in enumerate(steps):
        x = PAD_LEFT + index * slot + slot * 0.15
        segments, up, down = [], 0, 0
        for kind in (*GAINS, *LOSSES):
            amount = step[kind]
            if not amount:
                continue
            if kind in GAINS:
                top, bottom = y(up + amount), y(up)
                up += amount
            else:
                top, bottom = y(-down), y(-down - amount)
                down += amount
            segments.append({"key": kind, "label": labels[kind], "top": top, "height": max(bottom - top, 1),
                             "css": "bar-gain" if kind in GAINS else "bar-loss",
                             "kind_css": f"bar-{kind}", "text": money(amount if kind in GAINS else -amount, currency),
                             "count": step[f"{kind}_count"], "href": link(kind, step["start"])})
        groups.append({"start": step["start"], "x": x, "width": slot * 0.7, "center": x + slot * 0.35,
                       "segments": segments, "label": step["start"].strftime("%Y-%m")})
    description = "; ".join(
        f"{group['label']}: " + ", ".join(f"{s['label']} {s['text']}" for s in group["segments"]) for group in groups
        if group["segments"])
    return {"groups": groups, "width": WIDTH, "height": HEIGHT, "left": PAD_LEFT, "right": WIDTH - PAD_RIGHT,
            "zero": y(0), "axis_y": HEIGHT - 10, "high_label": money(high, currency), "high_y": y(high) + 3,
            "low_label": money(-low, currency), "low_y": y(-low) + 3, "show_low": bool(low), "show_high": bool(high),
            "description": description}
