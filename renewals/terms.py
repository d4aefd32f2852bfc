"""Term arithmetic of contract lines: how long a line ran, and the same length from another day."""

import datetime as dt

from dateutil.relativedelta import relativedelta


def _is_month_end(day):
    return (day + dt.timedelta(days=1)).day == 1


def term_between(start, end):
    """The term from `start` to `end` (end exclusive): ("months", n) when it is a whole number of
    calendar months (same day of the month, or month end to month end), else ("days", n)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and (start.day == end.day or (start + relativedelta(months=months)) == end
                       or (_is_month_end(start) and _is_month_end(end))):
        return ("months", months)
    return ("days", (end - start).days)


def add_term(day, term):
    """`day` plus a term from term_between (months clamp to the month's last day: Jan 31 + 1 month
    is Feb 28 or 29; a month-end start stays at month ends)."""
    unit, n = term
    if unit == "months":
        later = day + relativedelta(months=n)
        if _is_month_end(day):
            later = later + relativedelta(day=31)
        return later
    return day + dt.timedelta(days=n)
