"""The periods toss-ups are counted in: a month, a quarter, or any range of days. A period is
[start, end): `end` is the first day after it, as the revenue windows are."""

import datetime as dt

from django.utils.translation import gettext_lazy as _


class PeriodKind:
    MONTH, QUARTER, CUSTOM = "month", "quarter", "custom"
    choices = [(MONTH, _("Month")), (QUARTER, _("Quarter")), (CUSTOM, _("Custom range"))]


def month_start(day):
    return day.replace(day=1)


def add_months(day, months):
    """The first of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def quarter_start(day):
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def period_bounds(kind, day, *, start=None, end=None):
    """[start, end) of the month or quarter holding `day`, or of a custom range whose `end` is the
    last day included."""
    if kind == PeriodKind.QUARTER:
        first = quarter_start(day)
        return first, add_months(first, 3)
    if kind == PeriodKind.CUSTOM and start is not None and end is not None:
        return start, end + dt.timedelta(days=1)
    first = month_start(day)
    return first, add_months(first, 1)


def previous_period(kind, start, end):
    """The period just before [start, end) of the same kind (a custom one: of the same length)."""
    if kind == PeriodKind.QUARTER:
        return add_months(start, -3), start
    if kind == PeriodKind.MONTH:
        return add_months(start, -1), start
    return start - (end - start), start
