"""Small server-rendered SVG charts, so that pages need no chart library and no CDN.

    {% load charts %}
    {% line_chart series labels=day_labels markers=version_marks y_max=100 %}
    {% bar_chart bars %}  or  {% bar_chart bars y_max=100 %} (charts side by side on one scale)

`series` is a list of {"name": str, "points": [number or None, ...]}: None is a day without a value;
the line joins the values on either side (history is often sparse: weekly points on a daily axis).
`markers` is a list of {"index": int, "label": str}: a dashed vertical line (e.g. a scorecard change).
`bars` is a list of {"label": str, "value": number}.
"""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()

WIDTH, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 640, 36, 10, 10, 24


def _fmt(value):
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg_open(height, description):
    """The chart's root: an image whose text alternative is its data in words (screen readers, axe)."""
    return f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(description)}">'


@register.simple_tag
def line_chart(series, labels=None, markers=None, y_min=None, y_max=None, height=180, unit=""):
    values = [v for s in series for v in s["points"] if v is not None]
    count = max((len(s["points"]) for s in series), default=0)
    if not values or count == 0:
        return mark_safe('<div class="chart empty small">—</div>')
    low = min(values) if y_min is None else y_min
    high = max(values) if y_max is None else y_max
    if high == low:
        high = low + 1
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = height - PAD_TOP - PAD_BOTTOM

    def x(i):
        return PAD_LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(v):
        return PAD_TOP + plot_h * (1 - (v - low) / (high - low))

    span = f" ({labels[0]} – {labels[-1]})" if labels else ""
    description = "; ".join(
        f"{s.get('name', '')}: {_fmt(last)}{unit}{span}" if s.get("name") else f"{_fmt(last)}{unit}{span}"
        for s in series
        for last in [next((v for v in reversed(s["points"]) if v is not None), None)] if last is not None
    )
    parts = [_svg_open(height, description)]
    for tick in (low, (low + high) / 2, high):
        parts.append(
            f'<line class="axis" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text class="label" x="{PAD_LEFT - 4}" y="{y(tick) + 3:.1f}" text-anchor="end">'
            f"{escape(_fmt(tick))}{escape(unit)}</text>"
        )
    for index, s in enumerate(series):
        path = []
        for i, v in enumerate(s["points"]):
            if v is not None:
                path.append(f"{'L' if path else 'M'}{x(i):.1f},{y(v):.1f}")
        title = escape(s.get("name", ""))
        parts.append(f'<path class="series-{index % 4}" d="{" ".join(path)}"><title>{title}</title></path>')
        if sum(v is not None for v in s["points"]) == 1:  # a single point is invisible as a path
            i, v = next((i, v) for i, v in enumerate(s["points"]) if v is not None)
            parts.append(f'<circle class="series-{index % 4}" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3"/>')
    for marker in markers or []:
        mx = x(marker["index"])
        parts.append(
            f'<line class="marker" x1="{mx:.1f}" x2="{mx:.1f}" y1="{PAD_TOP}" y2="{PAD_TOP + plot_h}"/>'
            f'<text class="label" x="{mx + 3:.1f}" y="{PAD_TOP + 9}">{escape(marker.get("label", ""))}</text>'
        )
    if labels:
        step = max(1, len(labels) // 6)
        for i in range(0, len(labels), step):
            parts.append(
                f'<text class="label" x="{x(i):.1f}" y="{height - 6}" text-anchor="middle">{escape(labels[i])}</text>'
            )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i class="series-{i % 4}"></i>{escape(s.get("name", ""))}</span>'
        for i, s in enumerate(series)
        if s.get("name")
    )
    return mark_safe(f'<div class="chart">{"".join(parts)}<div class="legend">{legend}</div></div>')


@register.simple_tag
def bar_chart(bars, height=160, unit="", y_max=None):
    """`y_max` fixes the top of the scale, so that charts drawn side by side compare by their heights."""
    if not bars:
        return mark_safe('<div class="chart empty small">—</div>')
    high = max([(b["value"] or 0) for b in bars] + [y_max or 0]) or 1
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = height - PAD_TOP - PAD_BOTTOM
    slot = plot_w / len(bars)
    parts = [_svg_open(height, ", ".join(f"{b['label']}: {_fmt(b['value'] or 0)}{unit}" for b in bars))]
    for i, bar in enumerate(bars):
        value = bar["value"] or 0
        h = plot_h * value / high
        bx = PAD_LEFT + i * slot + slot * 0.15
        parts.append(
            f'<rect class="bar" x="{bx:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}">'
            f"<title>{escape(bar['label'])}: {escape(_fmt(value))}{escape(unit)}</title></rect>"
            f'<text class="label" x="{bx + slot * 0.35:.1f}" y="{height - 6}" text-anchor="middle">'
            f"{escape(bar['label'])}</text>"
            f'<text class="label" x="{bx + slot * 0.35:.1f}" y="{PAD_TOP + plot_h - h - 3:.1f}" '
            f'text-anchor="middle">{escape(_fmt(value))}</text>'
        )
    parts.append("</svg>")
    return mark_safe(f'<div class="chart">{"".join(parts)}</div>')
