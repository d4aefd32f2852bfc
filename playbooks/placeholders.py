"""The placeholders of a step's title and description, filled in for one account.

    {account} name · {owner} owner's name · {renewal_date} ISO date · {health_score} whole points ·
    {health_reason} the scorecard group that cost the latest score most · {stage} · {arr} 1,200,000

A value the account does not have reads "—". Only the names definition.PLACEHOLDERS allows get
here (validated when the playbook is saved); anything else in braces is left as written.
"""

import string

from .definition import PLACEHOLDERS

MISSING = "—"


def account_values(account, *, health_reason=None, renewal_date=None):
    """{placeholder: text} of an account, from its plain values: `account` holds name, owner (the
    owner's display name or None), renewal_date, health_score, stage (its name or None) and arr.
    `renewal_date`: the account's next renewal (renewals.selectors.next_renewal_by_account), else its
    own renewal date."""
    renewal_date = renewal_date or account["renewal_date"]
    return {
        "account": account["name"],
        "owner": account["owner"],
        "renewal_date": renewal_date.isoformat() if renewal_date else None,
        "health_score": None if account["health_score"] is None else f"{account['health_score']:.0f}",
        "health_reason": health_reason,
        "stage": account["stage"],
        "arr": f"{account['arr']:,.0f}" if account["arr"] is not None else None,
    }


def render(template, values):
    """`template` with its placeholders filled from `values`; a missing value reads "—". Only plain
    names are filled (no attribute or index access, no format specs): the text is a manager's."""
    if not template:
        return ""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return template
    out = []
    for literal, field, _spec, _conversion in parts:
        out.append(literal)
        if field is None:
            continue
        if field in PLACEHOLDERS:
            value = values.get(field)
            out.append(MISSING if value in (None, "") else str(value))
        else:
            out.append("{" + field + "}")
    return "".join(out)


def uses(template, name):
    """Whether `template` uses the placeholder `name` (so its value is worth a query)."""
    return ("{" + name + "}") in (template or "")
