"""The nightly part's reference: the bare database computing the inputs every nightly step needs, in
every formulation we could write, each measured in the same run; the fastest is the baseline.

What each computes, per account over 30 days: distinct active users, events, distinct event names,
days active and last seen, plus last touch and touches in 90 days; one row per account written with
INSERT … SELECT into its own table. The formulations:

- `count_distinct`: one GROUP BY with COUNT(DISTINCT …) per figure (sorts per group).
- `hashed_pairs`: the window's rows read once into a materialised CTE, then the distinct pairs
  (account, user), (account, event), (account, day) each found with a hashed GROUP BY 1, 2 and
  counted.
- `grouping_sets`: one scan, GROUP BY GROUPING SETS over the four groupings at once.
- `incremental`: what a night costs when the per-day distinct sets of the 29 earlier days are kept
  (built before the clock starts): the last day's sets from that day's events only, then the
  window's figures from the 30 days of sets.

Every formulation runs with the server's `work_mem`, as the product's own nightly statements do
(they set none). The rows of every formulation are compared with the first one's: a formulation
that computes something else is reported as failed, not as fast.
"""

import datetime as dt
import time

import psycopg2

COLUMNS = "account_id, active_users, events, event_names, days_active, last_seen, last_touch, touches_90d"

TABLE_DDL = """
DROP TABLE IF EXISTS {table};
CREATE TABLE {table} (
    account_id bigint PRIMARY KEY,
    active_users integer NOT NULL,
    events integer NOT NULL,
    event_names integer NOT NULL,
    days_active integer NOT NULL,
    last_seen timestamptz,
    last_touch timestamptz,
    touches_90d integer NOT NULL
);
"""

WINDOW_ROWS = """
    SELECT account_id, user_id, event, (occurred_at AT TIME ZONE %(tz)s)::date AS day, occurred_at
    FROM usage_usageevent
    WHERE workspace_id = %(ws)s AND account_id IS NOT NULL
      AND occurred_at >= %(start30)s AND occurred_at < %(end)s
"""

TOUCHES = """
    SELECT account_id, max(occurred_at) AS last_touch,
           count(*) FILTER (WHERE occurred_at >= %(start90)s) AS touches_90d
    FROM accounts_touchpoint
    WHERE workspace_id = %(ws)s AND occurred_at < %(end)s
    GROUP BY account_id
"""

COUNT_DISTINCT = f"""
INSERT INTO {{table}} ({COLUMNS})
SELECT a.id, coalesce(u.active_users, 0), coalesce(u.events, 0), coalesce(u.event_names, 0),
       coalesce(u.days_active, 0), u.last_seen, t.last_touch, coalesce(t.touches_90d, 0)
FROM accounts_account a
LEFT JOIN (
    SELECT account_id,
           count(DISTINCT user_id) AS active_users,
           count(*) AS events,
           count(DISTINCT event) AS event_names,
           count(DISTINCT (occurred_at AT TIME ZONE %(tz)s)::date) AS days_active,
           max(occurred_at) AS last_seen
    FROM usage_usageevent
    WHERE workspace_id = %(ws)s AND account_id IS NOT NULL
      AND occurred_at >= %(start30)s AND occurred_at < %(end)s
    GROUP BY account_id
) u ON u.account_id = a.id
LEFT JOIN ({TOUCHES}) t ON t.account_id = a.id
WHERE a.workspace_id = %(ws)s
"""

HASHED_PAIRS = f"""
WITH w AS MATERIALIZED ({WINDOW_ROWS}),
totals AS (SELECT account_id, count(*) AS events, max(occurred_at) AS last_seen FROM w GROUP BY 1),
users AS (SELECT account_id, count(user_id) AS n FROM (SELECT account_id, user_id FROM w GROUP BY 1, 2) p
          GROUP BY 1),
names AS (SELECT account_id, count(event) AS n FROM (SELECT account_id, event FROM w GROUP BY 1, 2) p GROUP BY 1),
days AS (SELECT account_id, count(*) AS n FROM (SELECT account_id, day FROM w GROUP BY 1, 2) p GROUP BY 1)
INSERT INTO {{table}} ({COLUMNS})
SELECT a.id, coalesce(users.n, 0), coalesce(totals.events, 0), coalesce(names.n, 0), coalesce(days.n, 0),
       totals.last_seen, t.last_touch, coalesce(t.touches_90d, 0)
FROM accounts_account a
LEFT JOIN totals ON totals.account_id = a.id
LEFT JOIN users ON users.account_id = a.id
LEFT JOIN names ON names.account_id = a.id
LEFT JOIN days ON days.account_id = a.id
LEFT JOIN ({TOUCHES}) t ON t.account_id = a.id
WHERE a.workspace_id = %(ws)s
"""

# GROUPING(user_id, event, day) is a bit mask of the columns a row is *not* grouped by (user 4,
# event 2, day 1): 7 = the account alone, 3 = (account, user), 5 = (account, event), 6 = (account, day).
GROUPING_SETS = f"""
WITH g AS (
    SELECT account_id, user_id, event, day, GROUPING(user_id, event, day) AS g, count(*) AS n,
           max(occurred_at) AS last_seen
    FROM ({WINDOW_ROWS}) w
    GROUP BY GROUPING SETS ((account_id), (account_id, user_id), (account_id, event), (account_id, day))
), per_account AS (
    SELECT account_id,
           sum(n) FILTER (WHERE g = 7) AS events,
           max(last_seen) FILTER (WHERE g = 7) AS last_seen,
           count(user_id) FILTER (WHERE g = 3) AS active_users,
           count(event) FILTER (WHERE g = 5) AS event_names,
           count(*) FILTER (WHERE g = 6) AS days_active
    FROM g GROUP BY account_id
)
INSERT INTO {{table}} ({COLUMNS})
SELECT a.id, coalesce(p.active_users, 0), coalesce(p.events, 0), coalesce(p.event_names, 0),
       coalesce(p.days_active, 0), p.last_seen, t.last_touch, coalesce(t.touches_90d, 0)
FROM accounts_account a
LEFT JOIN per_account p ON p.account_id = a.id
LEFT JOIN ({TOUCHES}) t ON t.account_id = a.id
WHERE a.workspace_id = %(ws)s
"""

# The per-day distinct sets the incremental formulation keeps: one row per account and day (events,
# last seen), per account, day and user, per account, day and event name.
DAY_SETS_DDL = """
DROP TABLE IF EXISTS bench_ref_day, bench_ref_day_users, bench_ref_day_events;
CREATE TABLE bench_ref_day (account_id bigint, day date, events integer, last_seen timestamptz);
CREATE TABLE bench_ref_day_users (account_id bigint, day date, user_id text);
CREATE TABLE bench_ref_day_events (account_id bigint, day date, event text);
"""

DAY_SETS_FILL = """
WITH w AS MATERIALIZED (
    SELECT account_id, user_id, event, (occurred_at AT TIME ZONE %(tz)s)::date AS day, occurred_at
    FROM usage_usageevent
    WHERE workspace_id = %(ws)s AND account_id IS NOT NULL
      AND occurred_at >= %(from)s AND occurred_at < %(until)s
), d AS (
    INSERT INTO bench_ref_day SELECT account_id, day, count(*), max(occurred_at) FROM w GROUP BY 1, 2
), u AS (
    INSERT INTO bench_ref_day_users SELECT account_id, day, user_id FROM w WHERE user_id IS NOT NULL GROUP BY 1, 2, 3
)
INSERT INTO bench_ref_day_events SELECT account_id, day, event FROM w WHERE event IS NOT NULL GROUP BY 1, 2, 3
"""

DAY_SETS_INDEXES = """
CREATE INDEX ON bench_ref_day (day);
CREATE INDEX ON bench_ref_day_users (day);
CREATE INDEX ON bench_ref_day_events (day);
ANALYZE bench_ref_day; ANALYZE bench_ref_day_users; ANALYZE bench_ref_day_events;
"""

INCREMENTAL_WINDOW = f"""
WITH totals AS (
    SELECT account_id, sum(events) AS events, max(last_seen) AS last_seen, count(*) AS days
    FROM bench_ref_day WHERE day >= %(first_day)s GROUP BY 1
), users AS (
    SELECT account_id, count(*) AS n
    FROM (SELECT account_id, user_id FROM bench_ref_day_users WHERE day >= %(first_day)s GROUP BY 1, 2) p GROUP BY 1
), names AS (
    SELECT account_id, count(*) AS n
    FROM (SELECT account_id, event FROM bench_ref_day_events WHERE day >= %(first_day)s GROUP BY 1, 2) p GROUP BY 1
)
INSERT INTO {{table}} ({COLUMNS})
SELECT a.id, coalesce(users.n, 0), coalesce(totals.events, 0), coalesce(names.n, 0), coalesce(totals.days, 0),
       totals.last_seen, t.last_touch, coalesce(t.touches_90d, 0)
FROM accounts_account a
LEFT JOIN totals ON totals.account_id = a.id
LEFT JOIN users ON users.account_id = a.id
LEFT JOIN names ON names.account_id = a.id
LEFT JOIN ({TOUCHES}) t ON t.account_id = a.id
WHERE a.workspace_id = %(ws)s
"""

FORMULATIONS = ["count_distinct", "hashed_pairs", "grouping_sets", "incremental"]
DESCRIPTIONS = {
    "count_distinct": "COUNT(DISTINCT …) per figure",
    "hashed_pairs": "distinct pairs by hashed GROUP BY over a materialised window",
    "grouping_sets": "one scan with GROUPING SETS",
    "incremental": "per-day distinct sets kept; the night adds its day and reads 30 days of sets",
}


def table_of(name):
    return f"bench_reference_{name}"


def measure(url, params, name):
    """One run of formulation `name`: its table recreated, the statement(s), commit. Returns
    (seconds, rows written). `incremental` needs `prepare_day_sets` first."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(TABLE_DDL.format(table=table_of(name)))
            last_day = dict(params, **{"from": params["end"] - dt.timedelta(days=1), "until": params["end"]})
            if name == "incremental":  # an earlier run's last day goes: the night below adds it
                for table in ("bench_ref_day", "bench_ref_day_users", "bench_ref_day_events"):
                    cur.execute(f"DELETE FROM {table} WHERE day >= %(last)s", {"last": params["as_of"]})
            conn.commit()
            started = time.perf_counter()
            if name == "incremental":
                cur.execute(DAY_SETS_FILL, last_day)  # the night's own work: its day's sets
                cur.execute(INCREMENTAL_WINDOW.format(table=table_of(name)), params)
            else:
                sql = {"count_distinct": COUNT_DISTINCT, "hashed_pairs": HASHED_PAIRS,
                       "grouping_sets": GROUPING_SETS}[name]
                cur.execute(sql.format(table=table_of(name)), params)
            rows = cur.rowcount
            conn.commit()
            return time.perf_counter() - started, rows
    finally:
        conn.close()


def prepare_day_sets(url, params):
    """The 29 earlier days' distinct sets, as the nights before would have left them (not timed)."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(DAY_SETS_DDL)
            cur.execute(DAY_SETS_FILL, dict(params, **{"from": params["start30"],
                                                       "until": params["end"] - dt.timedelta(days=1)}))
            cur.execute(DAY_SETS_INDEXES)
        conn.commit()
    finally:
        conn.close()


def differences(url, name, against="count_distinct"):
    """Rows on which formulation `name` and `against` disagree (0 when they compute the same)."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            a, b = table_of(name), table_of(against)
            cur.execute(f"SELECT (SELECT count(*) FROM (TABLE {a} EXCEPT TABLE {b}) x)"
                        f" + (SELECT count(*) FROM (TABLE {b} EXCEPT TABLE {a}) y)")
            return cur.fetchone()[0]
    finally:
        conn.close()


def drop_tables(url):
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            for name in FORMULATIONS:
                cur.execute(f"DROP TABLE IF EXISTS {table_of(name)}")
            cur.execute("DROP TABLE IF EXISTS bench_ref_day, bench_ref_day_users, bench_ref_day_events")
        conn.commit()
    finally:
        conn.close()
