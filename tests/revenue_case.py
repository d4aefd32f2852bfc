"""The hand-computed revenue case of docs/revenue.md: ten accounts, Q1 2026 = [2026-01-01, 2026-04-01).

    A upgrade            1,000 open from 2025-06-01, + 500 open from 2026-02-15
    B downgrade          2,000 from 2025-01-01 until 2026-03-01, then 1,200 open from 2026-03-01
    C churn (onboarding) 3,000 from 2025-03-01 until 2026-02-10
    D churn and return   700 from 2025-01-01 until 2026-01-20, then 900 open from 2026-03-10
    E ends on start      400 from 2025-01-01 until 2026-01-01
    F ends on end        600 from 2025-07-01 until 2026-04-01 (churned, price)
    G new                250 open from 2026-01-15, + 50 from 2026-01-15 until 2026-02-01
    H several lines      100 + 200 + 300 from 2024-04-01 (one ends 2027-01-01)
    I starts on end      800 open from 2026-04-01
    J free line          0 open from 2025-01-01
"""

import datetime as dt

from segments.models import Segment, SegmentMembershipEvent

from .factories import AccountFactory, contract_line

d = dt.date
START, END = d(2026, 1, 1), d(2026, 4, 1)


def build_case(ws, *, csm=None, csm2=None):
    def account(key, **extra):
        return AccountFactory(workspace=ws, name=f"{key} Corp", external_id=f"case-{key}", **extra)

    a = account("A", owner=csm, touch_tier="high")
    b = account("B", owner=csm, touch_tier="high")
    c = account("C", owner=csm, touch_tier="high", status="churned", churned_on=d(2026, 2, 10),
                churn_reason="onboarding_failure", churn_note="Never went live.")
    dd = account("D", owner=csm2, touch_tier="low")
    e = account("E", touch_tier="low", status="churned", churned_on=d(2026, 1, 1), churn_reason="budget")
    f = account("F", touch_tier="low", status="churned", churned_on=d(2026, 4, 1), churn_reason="price",
                churn_note="Cheaper tool.")
    g = account("G", touch_tier="tech")
    h = account("H", touch_tier="tech")
    i = account("I")
    j = account("J")
    contract_line(a, 1000, d(2025, 6, 1))
    contract_line(a, 500, d(2026, 2, 15))
    contract_line(b, 2000, d(2025, 1, 1), d(2026, 3, 1))
    contract_line(b, 1200, d(2026, 3, 1))
    contract_line(c, 3000, d(2025, 3, 1), d(2026, 2, 10))
    contract_line(dd, 700, d(2025, 1, 1), d(2026, 1, 20))
    contract_line(dd, 900, d(2026, 3, 10))
    contract_line(e, 400, d(2025, 1, 1), d(2026, 1, 1))
    contract_line(f, 600, d(2025, 7, 1), d(2026, 4, 1))
    contract_line(g, 250, d(2026, 1, 15))
    contract_line(g, 50, d(2026, 1, 15), d(2026, 2, 1))
    contract_line(h, 100, d(2024, 4, 1))
    contract_line(h, 200, d(2024, 4, 1), d(2027, 1, 1))
    contract_line(h, 300, d(2024, 4, 1))
    contract_line(i, 800, d(2026, 4, 1))
    contract_line(j, 0, d(2025, 1, 1))
    # A segment "Big" that A, B and C were in on the window's start (B left on 2026-02-01, which does not
    # change its group); G joined during the window.
    big = Segment.all_workspaces.create(workspace=ws, name="Big", rules={"op": "and", "conditions": []})
    for acc, day, kind in ((a, d(2025, 12, 1), "entered"), (b, d(2025, 12, 1), "entered"),
                           (c, d(2025, 12, 1), "entered"), (b, d(2026, 2, 1), "left"),
                           (g, d(2026, 2, 1), "entered")):
        SegmentMembershipEvent.all_workspaces.create(workspace=ws, segment=big, account=acc, day=day, kind=kind)
    return {"A": a, "B": b, "C": c, "D": dd, "E": e, "F": f, "G": g, "H": h, "I": i, "J": j, "big": big}
