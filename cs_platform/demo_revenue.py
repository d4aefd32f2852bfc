"""The demo's contract lines: two years (and more) of annual terms per account, so that every revenue
chart has data.

Each account gets one line per annual term from its contract start: the term's line ends on the next
anniversary (exclusive) and renews into the next line that day, the current term's line is open-ended
with its renewal date on the next anniversary. MRR moves at renewals (expansion or contraction) and
by add-on lines taken mid-term; churned accounts' last line ends on their churn date; a few active
accounts lapsed for some months and came back (reactivation). Amounts are worked backwards from the
account's ARR so that today's lines add up to it: ARR = 12 × current MRR (an ARR not divisible by 12
is raised by at most 11 yen to the next whole MRR). All rows by bulk_create, with their versions
(accounts.line_history): each line known from its start as it is, except that a line ending on its
account's churn day was, until that day, the open-ended current term (renewing on its renewal date).
"""

import datetime as dt
from decimal import ROUND_CEILING, Decimal

from accounts.line_history import version_of
from accounts.models import Account, AccountStatus, Contract, ContractVersion


def _years_after(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _terms(start, today, *, churned_on, lapse):
    """[(term start, term end or None)] from `start`: annual terms; the last one open (None) unless
    the account churned (then it ends on the churn date). `lapse`: (term index, gap days) of a lapse."""
    terms, begin, index = [], start, 0
    while True:
        end = _years_after(begin, 1)
        if churned_on is not None and end >= churned_on:
            terms.append((begin, churned_on))
            return terms
        if churned_on is None and end > today:
            terms.append((begin, None))
            return terms
        terms.append((begin, end))
        begin = end
        if lapse and lapse[0] == index and end + dt.timedelta(days=lapse[1]) <= today - dt.timedelta(days=45):
            begin = end + dt.timedelta(days=lapse[1])
        index += 1


def seed_revenue(workspace, rng, today, actor):
    """Contract lines for every account of the demo workspace (`actor` made them: the demo)."""
    unit = "ID" if workspace.language == "ja" else "seats"
    accounts = list(Account.objects.for_workspace(workspace).order_by("pk"))
    lines, changed = [], []
    for account in accounts:
        start = account.contract_start or today
        churned_on = account.churned_on if account.status == AccountStatus.CHURNED else None
        if churned_on is not None and churned_on <= start:
            start = churned_on - dt.timedelta(days=rng.randint(200, 400))
            account.contract_start = start
        mrr = (account.arr / 12).quantize(Decimal("1"), rounding=ROUND_CEILING) if account.arr else Decimal(20_000)
        if mrr * 12 != account.arr:
            account.arr = mrr * 12
        changed.append(account)
        # A few long-standing active accounts lapsed for a few months and came back.
        lapse = None
        if churned_on is None and (today - start).days > 500 and rng.random() < 0.15:
            lapse = (rng.randint(0, max(0, (today - start).days // 365 - 1)), rng.randint(40, 150))
        terms = _terms(start, today, churned_on=churned_on, lapse=lapse)
        # MRR per term, worked backwards from today's: renewals were mostly flat, some grew, a few shrank.
        totals = [mrr]
        for _ in terms[:-1]:
            factor = rng.choices([Decimal(1), Decimal(rng.randint(110, 150)) / 100, Decimal(rng.randint(70, 90)) / 100],
                                 weights=[60, 28, 12])[0]
            totals.insert(0, max(Decimal(5_000), (totals[0] / factor).quantize(Decimal("100"))))
        totals[-1] = mrr  # today's MRR is exact
        seats_per_mrr = Decimal(account.licensed_seats or 10) / mrr
        for number, ((begin, end), total) in enumerate(zip(terms, totals, strict=True)):
            renewal = end if end is not None else _years_after(begin, 1)
            if churned_on is not None and end == churned_on:
                renewal = _years_after(begin, 1)  # it was due to renew then; it churned first
            addon = Decimal(0)
            span = ((end or today) - begin).days
            if span > 90 and rng.random() < 0.22:  # seats added mid-term, folded into the base at renewal
                addon = (total * Decimal(rng.randint(10, 25)) / 100).quantize(Decimal("100"))
            base = total - addon
            lines.append(Contract(
                workspace=workspace, account=account, external_id=f"{account.external_id}-L{number + 1}",
                product=account.plan or "Standard", mrr=base, quantity=max(1, int(base * seats_per_mrr)), unit=unit,
                start_date=begin, end_date=end, renewal_date=renewal))
            if addon:
                added_on = begin + dt.timedelta(days=rng.randint(30, span - 30))
                lines.append(Contract(
                    workspace=workspace, account=account, external_id=f"{account.external_id}-L{number + 1}-A",
                    product=f"{account.plan or 'Standard'} +", mrr=addon, quantity=max(1, int(addon * seats_per_mrr)),
                    unit=unit, start_date=added_on, end_date=end, renewal_date=renewal))
    Account.objects.for_workspace(workspace).bulk_update(changed, ["arr", "contract_start"], batch_size=1000)
    Contract.objects.bulk_create(lines, batch_size=2000)
    churn_days = {a.pk: a.churned_on for a in accounts if a.status == AccountStatus.CHURNED and a.churned_on}
    ContractVersion.objects.bulk_create(_versions(lines, churn_days, today), batch_size=2000)
    return len(lines)


def _versions(lines, churn_days, today):
    versions = []
    for line in lines:
        known_from = min(line.start_date, today)
        churned_on = churn_days.get(line.account_id)
        if churned_on is not None and line.end_date == churned_on and line.start_date < churned_on \
                and line.renewal_date and line.renewal_date > churned_on:
            before = version_of(line, day=known_from, source="demo")
            before.end_date, before.valid_to = None, churned_on  # the current term: open-ended
            versions.append(before)
            known_from = churned_on
        versions.append(version_of(line, day=known_from, source="demo"))
    return versions
