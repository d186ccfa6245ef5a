"""Benchmark of automatic anonymisation: a rule run over the ~10% of customers the
seeder makes inactive, through the real ticker path (CALL gdpr.tick(): one rule per club,
commit per batch of 1,000), beside the same kind of subjects erased by calling
gdpr.anonymize_many directly in batches of 1,000 (what the rule machinery adds to the
erasure it performs); and the eligibility query the engine generates beside a
hand-written anti-join for the same set, with its EXPLAIN.

    python bench/rules.py --customers 20000          # validation scale
    python bench/rules.py --customers 1000000        # the issue's scale (one at a time!)

The two erasure paths run in ONE fresh copy, ABBA over clubs: the clubs are taken in
pairs, one club's rule runs through the ticker and the other club's eligible customers
(the hand-written query's keys, taken before the clock starts) through anonymize_many;
the ticker goes first in even pairs, anonymize_many in odd ones. Every club is used, so
each side erases about half of the eligible customers (about 48,000 each at 1M). The
first pair after a CHECKPOINT is the cold window; all pairs are the sustained run. WAL
and full-page images per customer are printed for both, with the settings.

Targets (issue 16): the rule run within 1.1x of anonymize_many on the same kind of
customers; eligibility within 1.5x of the hand-written query.
"""

from __future__ import annotations

import argparse
import json
import time

import psycopg

from common import (add_profile_argument, drop_copy, environment, fresh_copy, print_rows, seeded_dsn, server_ms,
                    stats, use_profile, wal_counters, wal_since)

# The hand-written baseline: the same thresholds (6 months) and the same built-in safety
# (not anonymised, no active legal hold, no open balance, no future booking/reservation).
HAND_WRITTEN = """
SELECT count(*) FROM club.customers c
 WHERE c.club_id = $1 AND c.anonymized_at IS NULL
   AND NOT EXISTS (SELECT FROM club.account_movements m WHERE m.club_id = c.club_id AND m.customer_id = c.id
                    AND m.booked_at > $2 - interval '6 months')
   AND NOT EXISTS (SELECT FROM club.activities a WHERE a.club_id = c.club_id AND a.customer_id = c.id
                    AND a.occurred_at > $2 - interval '6 months')
   AND NOT EXISTS (SELECT FROM club.reservations r WHERE r.club_id = c.club_id AND r.customer_id = c.id
                    AND r.starts_at > $2 - interval '6 months')
   AND NOT EXISTS (SELECT FROM gdpr.rule_subject f WHERE f.rule_id = $3 AND f.subject_key = c.id::text)
   AND NOT EXISTS (SELECT FROM gdpr.legal_hold h WHERE h.kind = 'customer' AND h.tenant = $1::text
                    AND h.subject_key = c.id::text AND h.cleared_at IS NULL AND (h.until IS NULL OR h.until > $2))
   AND COALESCE((SELECT sum(m.amount) FROM club.account_movements m
                  WHERE m.club_id = c.club_id AND m.customer_id = c.id), 0) >= 0
   AND NOT EXISTS (SELECT FROM club.table_bookings b WHERE b.club_id = c.club_id AND b.customer_id = c.id
                    AND b.booked_for > $2)
   AND NOT EXISTS (SELECT FROM club.reservations r WHERE r.club_id = c.club_id AND r.customer_id = c.id
                    AND r.ends_at > $2)
"""

# The same, written by someone who knows the planner's one-row estimate of anti-join
# chains: conditions first, safety checked per survivor (what the engine generates).
HAND_WRITTEN_TWO_LEVEL = """
SELECT count(*) FROM (
    SELECT c.* FROM club.customers c
     WHERE c.club_id = $1 AND c.anonymized_at IS NULL
       AND NOT EXISTS (SELECT FROM club.account_movements m WHERE m.club_id = c.club_id AND m.customer_id = c.id
                        AND m.booked_at > $2 - interval '6 months')
       AND NOT EXISTS (SELECT FROM club.activities a WHERE a.club_id = c.club_id AND a.customer_id = c.id
                        AND a.occurred_at > $2 - interval '6 months')
       AND NOT EXISTS (SELECT FROM club.reservations r WHERE r.club_id = c.club_id AND r.customer_id = c.id
                        AND r.starts_at > $2 - interval '6 months')
       AND NOT EXISTS (SELECT FROM gdpr.rule_subject f WHERE f.rule_id = $3 AND f.subject_key = c.id::text)
    OFFSET 0) c
 WHERE (NOT EXISTS (SELECT FROM gdpr.legal_hold h WHERE h.kind = 'customer' AND h.tenant = $1::text
                     AND h.subject_key = c.id::text AND h.cleared_at IS NULL AND (h.until IS NULL OR h.until > $2))) IS TRUE
   AND (COALESCE((SELECT sum(m.amount) FROM club.account_movements m
                   WHERE m.club_id = c.club_id AND m.customer_id = c.id), 0) >= 0) IS TRUE
   AND (NOT EXISTS (SELECT FROM club.table_bookings b WHERE b.club_id = c.club_id AND b.customer_id = c.id
                     AND b.booked_for > $2)
        AND NOT EXISTS (SELECT FROM club.reservations r WHERE r.club_id = c.club_id AND r.customer_id = c.id
                         AND r.ends_at > $2)) IS TRUE
"""

CONDITIONS = json.dumps([{"name": "can_be_anonymised"}])
ACTIONS = json.dumps([{"name": "anonymise"}])


def create_rules(conn, clubs: list[int], cap: int) -> dict[int, int]:
    rules = {}
    for club in clubs:
        rules[club] = conn.execute(
            "SELECT gdpr.create_rule(%s, 'Anonymiser inaktive kunder', 'daily 03:00', 'once', %s::jsonb, %s::jsonb, %s)",
            (str(club), CONDITIONS, ACTIONS, cap)).fetchone()[0]
    return rules


def eligibility(conn, rules: dict[int, int], repeat: int) -> list[dict]:
    """Generated vs hand-written count, per club, server-side executor time."""
    club, rule = next(iter(rules.items()))
    generated = conn.execute("SELECT gdpr.rule_eligibility_sql(r, 'count') FROM gdpr.rule r WHERE r.id = %s",
                             (rule,)).fetchone()[0]
    conn.execute(f"PREPARE generated (text, timestamptz, jsonb, text, text, integer, bigint) AS {generated}")
    conn.execute(f"PREPARE hand (bigint, timestamptz, bigint) AS {HAND_WRITTEN}")
    conn.execute(f"PREPARE hand2 (bigint, timestamptz, bigint) AS {HAND_WRITTEN_TWO_LEVEL}")
    params = conn.execute("SELECT jsonb_agg(c -> 'params')::text, time_zone FROM gdpr.rule r, "
                          "jsonb_array_elements(r.conditions) c WHERE r.id = %s GROUP BY time_zone", (rule,)).fetchone()
    gen_sql = (f"EXECUTE generated ('{club}', now(), '{params[0]}', '{params[1]}', NULL, 0, {rule})")
    hand_sql = f"EXECUTE hand ({club}, now(), {rule})"
    gen_count = conn.execute(gen_sql).fetchone()[0]
    hand2_sql = f"EXECUTE hand2 ({club}, now(), {rule})"
    hand_count = conn.execute(hand_sql).fetchone()[0]
    assert gen_count == hand_count == conn.execute(hand2_sql).fetchone()[0], (gen_count, hand_count)
    gen_times, hand_times, hand2_times = [], [], []
    for _ in range(repeat):  # interleaved, so that all see the same cache state
        gen_times.append(server_ms(conn, gen_sql))
        hand_times.append(server_ms(conn, hand_sql))
        hand2_times.append(server_ms(conn, hand2_sql))
    print(f"\nEXPLAIN of the generated eligibility query (club {club}, {gen_count} eligible):")
    for (line,) in conn.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + gen_sql):
        print("  " + line)
    g, h, h2 = stats(gen_times), stats(hand_times), stats(hand2_times)
    return [{"query": "generated (gdpr.rule_eligibility_sql)", "club": club, "eligible": gen_count,
             "median_ms": g["median"], "p95_ms": g["p95"], "ratio": g["median"] / h["median"]},
            {"query": "hand-written anti-join", "club": club, "eligible": hand_count,
             "median_ms": h["median"], "p95_ms": h["p95"], "ratio": 1.0},
            {"query": "hand-written, conditions first, safety per survivor", "club": club, "eligible": hand_count,
             "median_ms": h2["median"], "p95_ms": h2["p95"], "ratio": h2["median"] / h["median"]}]


def hand_keys(conn, club: int) -> list[str]:
    return [r[0] for r in conn.execute(f"EXECUTE hand_keys ({int(club)}, now(), 0)")]


def tick_club(conn, rule: int) -> dict:
    """Make one club's rule due and run the ticker (it runs exactly the due rules)."""
    conn.execute("UPDATE gdpr.rule SET next_slot = now() - interval '1 minute' WHERE id = %s", (rule,))
    before = wal_counters(conn)
    started = time.perf_counter()
    conn.execute("CALL gdpr.tick()")
    seconds = time.perf_counter() - started
    wal, fpi = wal_since(conn, before)
    changed, errors = conn.execute("SELECT COALESCE(sum(changed), 0), COALESCE(sum(error_count), 0) "
                                   "FROM gdpr.rule_run WHERE rule_id = %s", (rule,)).fetchone()
    return {"changed": int(changed), "errors": int(errors), "seconds": seconds, "wal": wal, "fpi": fpi}


def direct_club(conn, club: int, keys: list[str]) -> dict:
    """The club's eligible customers (keys taken before) by anonymize_many, per 1,000."""
    before = wal_counters(conn)
    started = time.perf_counter()
    changed = 0
    for i in range(0, len(keys), 1000):
        changed += conn.execute("SELECT count(*) FILTER (WHERE outcome = 'anonymized') "
                                "FROM gdpr.anonymize_many('customer', %s::text, %s::text[], 'bench', NULL)",
                                (str(club), keys[i:i + 1000])).fetchone()[0]
    seconds = time.perf_counter() - started
    wal, fpi = wal_since(conn, before)
    return {"changed": changed, "errors": len(keys) - changed, "seconds": seconds, "wal": wal, "fpi": fpi}


def summarise(label: str, side: str, runs: list[dict]) -> dict:
    changed = sum(r["changed"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    return {"window": label, "path": side, "clubs": len(runs), "changed": changed,
            "errors": sum(r["errors"] for r in runs), "seconds": seconds,
            "customers/s": changed / seconds if seconds else float("nan"),
            "KB WAL/customer": sum(r["wal"] for r in runs) / max(changed, 1) / 1024,
            "FPI/customer": sum(r["fpi"] for r in runs) / max(changed, 1)}


PROFILE_QUERY = """
SELECT round(total_exec_time::numeric, 1) AS total_ms, calls,
       round((total_exec_time / NULLIF(calls, 0))::numeric, 3) AS mean_ms, rows,
       regexp_replace(left(query, 150), '\\s+', ' ', 'g') AS statement
  FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND query NOT ILIKE '%pg_stat_%' AND query NOT ILIKE '%pg_current_wal%'
 ORDER BY total_exec_time DESC LIMIT 40
"""


def abba_run(dsn: str, clubs: list[int], cap: int, profile: bool = False) -> list[dict]:
    """Clubs in pairs: one by the ticker, one by anonymize_many, ABBA."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        print(environment(conn))
        if profile:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("SET pg_stat_statements.track = 'all'")
        rules = create_rules(conn, clubs, cap)
        conn.execute("UPDATE gdpr.rule SET next_slot = now() + interval '1 year'")  # none due yet
        conn.execute(f"PREPARE hand_keys (bigint, timestamptz, bigint) AS "
                     f"{HAND_WRITTEN.replace('SELECT count(*)', 'SELECT c.id::text', 1)} ORDER BY c.id")
        pairs = [(clubs[i], clubs[i + 1]) for i in range(0, len(clubs) - 1, 2)]
        keys = {club: hand_keys(conn, club) for pair in pairs for club in pair}
        conn.execute("CHECKPOINT")
        if profile:
            conn.execute("SELECT pg_stat_statements_reset()")
        ticked, direct = [], []
        for i, (tick_side, direct_side) in enumerate(pairs):
            if i % 2 == 0:
                ticked.append(tick_club(conn, rules[tick_side]))
                direct.append(direct_club(conn, direct_side, keys[direct_side]))
            else:
                direct.append(direct_club(conn, direct_side, keys[direct_side]))
                ticked.append(tick_club(conn, rules[tick_side]))
            # the ticker erased what the hand-written query found eligible
            ticked[-1]["eligible"] = len(keys[tick_side])
        if profile:
            conn.execute("SET pg_stat_statements.track = 'none'")
            print_rows("pg_stat_statements (track = all) over the rule runs and anonymize_many calls",
                       [dict(zip(("total ms", "calls", "mean ms", "rows", "statement"), r))
                        for r in conn.execute(PROFILE_QUERY)])
        left = sum(len(hand_keys(conn, club)) for pair in pairs for club in pair)
        print(f"\neligible customers left after the run (hand-written query, all used clubs): {left}")
        print(f"ticker: eligible {sum(r['eligible'] for r in ticked):,}, changed "
              f"{sum(r['changed'] for r in ticked):,}")
        print(environment(conn))
    rows = []
    for label, part in (("cold: first pair after CHECKPOINT", slice(0, 1)), ("sustained: all pairs", slice(None))):
        t = summarise(label, "CALL gdpr.tick() (one rule per club)", ticked[part])
        d = summarise(label, "gdpr.anonymize_many per 1,000 (keys taken before)", direct[part])
        t["ratio"] = d["customers/s"] / t["customers/s"]
        d["ratio"] = 1.0
        rows += [t, d]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--clubs", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7, help="timings of each eligibility query")
    parser.add_argument("--no-rule-run", action="store_true", help="only the eligibility queries")
    parser.add_argument("--pairs", type=int, default=0, help="pairs of clubs in the rule run (0: all clubs)")
    parser.add_argument("--profile-statements", action="store_true",
                        help="track every statement with pg_stat_statements and print where the time goes")
    add_profile_argument(parser)
    args = parser.parse_args()
    use_profile(args)

    source = seeded_dsn(args.customers, args.clubs)
    copy = fresh_copy(source)
    try:
        with psycopg.connect(copy, autocommit=True) as conn:
            clubs = [r[0] for r in conn.execute("SELECT id FROM club.clubs ORDER BY id")]
            largest = conn.execute("SELECT club_id FROM club.customers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
                                   ).fetchone()[0]
            rules = create_rules(conn, [largest], args.customers)
            print_rows(f"Eligibility query, {args.customers:,} customers in {len(clubs)} clubs "
                       f"(server executor time, {args.repeat} runs each, interleaved)",
                       eligibility(conn, rules, args.repeat))
            conn.execute("DELETE FROM gdpr.rule_subject")
            conn.execute("UPDATE gdpr.rule SET enabled = false, deleted_at = now()")
        if not args.no_rule_run:
            used = clubs[:2 * args.pairs] if args.pairs else clubs
            rows = abba_run(copy, used, args.customers, args.profile_statements)
            print_rows(f"Rule run beside anonymize_many, {args.customers:,} customers, ABBA over clubs "
                       f"(ratio = anonymize_many rate / ticker rate; target <= 1.1)", rows)
    finally:
        drop_copy(copy)


if __name__ == "__main__":
    main()
