"""Benchmark of automatic anonymisation (issue 6): a rule run over the ~10% of customers the
seeder makes inactive, through the real ticker path (CALL gdpr.tick(): one rule per club,
commit per batch of 1,000), beside the same subjects erased by calling
gdpr.anonymize_many directly in batches of 1,000 (the rule machinery's overhead) and by
the hand-written erasure script of bench/erasure.py in the same batches (what plain SQL
making the same changes does on this machine: the floor of the rate); and the
eligibility query the engine generates beside a hand-written anti-join for the same set,
with its EXPLAIN.

    python bench/rules.py --customers 20000          # validation scale
    python bench/rules.py --customers 1000000        # the issue's scale (one at a time!)

Targets (issue 6): >= 2,000 customers/s; eligibility within 1.5x of the hand-written query.
"""

from __future__ import annotations

import argparse
import json
import time

import psycopg

from common import drop_copy, fresh_copy, print_rows, seeded_dsn, server_ms, stats
from erasure import HAND_WRITTEN as ERASURE_HAND_WRITTEN

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


def rule_run(dsn: str, clubs: list[int], cap: int) -> dict:
    """All clubs' rules due at once; one CALL gdpr.tick() runs them (commit per batch)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rules = create_rules(conn, clubs, cap)
        eligible = sum(conn.execute("SELECT (gdpr.preview_rule(%s, now(), 0) ->> 'count')::int", (r,)).fetchone()[0]
                       for r in rules.values())
        conn.execute("UPDATE gdpr.rule SET next_slot = now() - interval '1 minute'")
        conn.execute("CHECKPOINT")
        started = time.perf_counter()
        conn.execute("CALL gdpr.tick()")
        seconds = time.perf_counter() - started
        changed, errors = conn.execute("SELECT sum(changed), sum(error_count) FROM gdpr.rule_run").fetchone()
        left = sum(conn.execute("SELECT (gdpr.preview_rule(%s, now(), 0) ->> 'count')::int", (r,)).fetchone()[0]
                   for r in rules.values())
    return {"path": "rules: CALL gdpr.tick() (one rule per club)", "eligible": eligible, "changed": changed,
            "errors": errors, "left_after": left, "seconds": seconds, "customers_per_s": changed / seconds}


ENGINE_BATCH = ("baseline: gdpr.anonymize_many per 1,000, keys from the hand-written query",
                "SELECT count(*) FILTER (WHERE outcome = 'anonymized') "
                "FROM gdpr.anonymize_many('customer', %s::text, %s::text[], 'bench', NULL)")
HAND_BATCH = ("floor: the hand-written erasure script (bench/erasure.py) per 1,000, same keys",
              "SELECT bench_hand.erase(%s::bigint, %s::bigint[])")


def batch_run(dsn: str, clubs: list[int], path: str, call: str) -> dict:
    """The same eligible set (hand-written query) erased by `call` in batches of 1,000 of one club."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(ERASURE_HAND_WRITTEN)
        conn.execute(f"PREPARE hand_keys (bigint, timestamptz, bigint) AS "
                     f"{HAND_WRITTEN.replace('SELECT count(*)', 'SELECT c.id::text', 1)} ORDER BY c.id")
        batches = []
        for club in clubs:
            keys = [r[0] for r in conn.execute(f"EXECUTE hand_keys ({int(club)}, now(), 0)")]
            batches += [(club, keys[i:i + 1000]) for i in range(0, len(keys), 1000)]
        total = sum(len(k) for _, k in batches)
        conn.execute("CHECKPOINT")
        started = time.perf_counter()
        changed = 0
        for club, keys in batches:
            changed += conn.execute(call, (club, keys)).fetchone()[0]
        seconds = time.perf_counter() - started
    return {"path": path, "eligible": total, "changed": changed, "errors": total - changed, "left_after": None,
            "seconds": seconds, "customers_per_s": changed / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--clubs", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7, help="timings of each eligibility query")
    parser.add_argument("--no-baseline-run", action="store_true", help="skip the two batch baselines")
    args = parser.parse_args()

    # One copy at a time (each made after the previous one is dropped): three 7 GB copies
    # do not fit in this machine's page cache, and a run would pay for another's pages.
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
        runs = [rule_run(copy, clubs, args.customers)]
    finally:
        drop_copy(copy)
    for path, call in ([] if args.no_baseline_run else [ENGINE_BATCH, HAND_BATCH]):
        copy = fresh_copy(source)
        try:
            runs.append(batch_run(copy, clubs, path, call))
        finally:
            drop_copy(copy)
    print_rows(f"Rule run, {args.customers:,} customers (target >= 2,000 customers/s)", runs)


if __name__ == "__main__":
    main()
