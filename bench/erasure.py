"""Erasure: gdpr.anonymize / gdpr.anonymize_many beside a hand-written set-based SQL
script that makes the same changes, side by side in one run.

    python bench/erasure.py --customers 20000 [--clubs 50] [--seed 1] [--singles 30] [--batch 1000] [--batches 3]

On the benchmark cluster (bench/common.py) it takes one fresh copy (fresh_copy) of the
seeded database seeded_dsn(N) and runs the engine and the hand-written script in it, on
disjoint customers drawn alike, interleaved in ABBA order (engine, hand, hand, engine,
...: whichever runs first after a page was last written pays its full-page image in the
WAL), each call in its own autocommit transaction, timed wall-clock on the client
(commit and its WAL flush included: bulk erasure is bound by WAL and by the pages it
reads and writes, performance-floor.md). One copy, not one per side: two 7 GB copies and
their template do not fit in this machine's page cache together, and the side that ran
second paid for the other's reads.

- single:  SELECT gdpr.anonymize('customer', id, reason, club) for --singles customers
           (median, p95), beside the hand-written script for as many other customers;
- batch:   SELECT * FROM gdpr.anonymize_many('customer', club, ids[], reason) for
           --batches batches of up to --batch customers of one club (customers/s), each
           beside the hand-written script for a batch of as many other customers of the
           same club. WAL written per customer is printed for both.

The engine does more than the baseline: it captures and checks the proof (a search of
every remaining text column for keyed hashes of the identifying values), writes the
ledger, the audit trail and the deferred-erasure entries. The baseline makes only the
changes to the club tables (deletes, regex redaction of the customer's identifying
values in log lines and payment texts, scrubbed customer row, address deleted).
Two windows of batches, both ABBA on disjoint customers of the same clubs:

- cold window: the first --batches pairs right after a CHECKPOINT on the fresh copy.
  Every page a batch touches is written for the first time since the checkpoint, so it
  pays a full-page image (43-48 per customer at 1M): the worst case, what a run right
  after a restore or a checkpoint sees.
- sustained run: --sustained customers per side more (default 50,000: 50 more pairs of
  1,000), straight on. Pages written once already carry their image until the next
  checkpoint, so this is the steady state a long erasure job or a ticker sees. It is
  reported in windows of --window pairs (customers/s and full-page images per
  customer per window, to show the cold start fade) and as a whole (customers erased
  / seconds spent, each side). Checkpoints during the run are counted.

WAL bytes (pg_current_wal_insert_lsn) and full-page images (pg_stat_wal.wal_fpi, the
whole server's: nothing else runs on the benchmark cluster) are measured per call.
The server settings and the load average are printed with the figures.

--profile-statements runs the same with pg_stat_statements.track = all and prints the
statements inside gdpr.anonymize_many and the hand-written script by total time
(timings then carry the tracking overhead: use it to see where time goes, not for the
rates).

Targets (issue 16, at 1M customers, production settings): sustained engine batch within
1.25x of the hand-written script and >= 2,000 customers/s; single median < 50 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

import psycopg

from common import (add_profile_argument, drop_copy, environment, fresh_copy, print_rows, seeded_dsn, stats,
                    use_profile, wal_counters, wal_since)
from pgdpr.migrate import migrate

# The same changes as gdpr.anonymize_many for the reference club catalog, written by
# hand for this schema only: one statement per table for the whole batch.
HAND_WRITTEN = r"""
CREATE SCHEMA IF NOT EXISTS bench_hand;
CREATE OR REPLACE FUNCTION bench_hand.esc(p text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(regexp_replace(p, '([^[:alnum:][:space:]])', '\\\1', 'g'), '\s+', '\\s+', 'g')
$$;
CREATE OR REPLACE FUNCTION bench_hand.erase(p_club bigint, p_ids bigint[]) RETURNS integer
LANGUAGE plpgsql SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
    v_ids bigint[];
    v_pats text[];
    v_names text[];
    v_addr bigint[];
    v_salt bytea := (SELECT salt FROM gdpr.install_secret);
BEGIN
    SELECT array_agg(q.id ORDER BY q.id), array_agg(q.pattern ORDER BY q.id), array_agg(q.names ORDER BY q.id),
           array_agg(q.address_id)
      INTO v_ids, v_pats, v_names, v_addr
      FROM (SELECT c.id, c.address_id,
                   concat_ws('|', bench_hand.esc(c.email), bench_hand.esc(c.first_name || ' ' || c.last_name),
                             bench_hand.esc(c.phone), bench_hand.esc(c.cpr), bench_hand.esc(c.customer_no),
                             bench_hand.esc(c.member_card), bench_hand.esc(c.key_fob)) AS pattern,
                   '(^|[^[:alnum:]_])(?:' || bench_hand.esc(c.last_name) || '|' || bench_hand.esc(c.first_name)
                       || ')(?=[^[:alnum:]_]|$)' AS names
              FROM club.customers c
             WHERE c.club_id = p_club AND c.id = ANY (p_ids) AND c.anonymized_at IS NULL
             ORDER BY c.id FOR UPDATE) q;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM club.class_enrollments WHERE club_id = p_club AND customer_id = ANY (v_ids);
    DELETE FROM club.table_bookings WHERE club_id = p_club AND customer_id = ANY (v_ids);
    DELETE FROM club.reservations WHERE club_id = p_club AND customer_id = ANY (v_ids);
    DELETE FROM club.activities WHERE club_id = p_club AND customer_id = ANY (v_ids);
    DELETE FROM club.consents WHERE club_id = p_club AND customer_id = ANY (v_ids);
    DELETE FROM club.notes WHERE club_id = p_club AND customer_id = ANY (v_ids);
    DELETE FROM club.custom_field_values WHERE club_id = p_club AND customer_id = ANY (v_ids);
    UPDATE club.log_lines l
       SET text = regexp_replace(regexp_replace(l.text, p.pattern, '[anonymiseret]', 'gi'), p.names,
                                 '\1[anonymiseret]', 'gi')
      FROM unnest(v_ids, v_pats, v_names) AS p(id, pattern, names)
     WHERE l.club_id = p_club AND l.customer_id = p.id;
    UPDATE club.account_movements m
       SET text = regexp_replace(regexp_replace(m.text, p.pattern, '[anonymiseret]', 'gi'), p.names,
                                 '\1[anonymiseret]', 'gi'),
           payment_reference = NULL
      FROM unnest(v_ids, v_pats, v_names) AS p(id, pattern, names)
     WHERE m.club_id = p_club AND m.customer_id = p.id;
    UPDATE club.customers c
       SET first_name = 'Anonymiseret', last_name = 'Anonymiseret', email = NULL, phone = NULL, cpr = NULL,
           bank_reg = NULL, bank_account = NULL, photo = NULL, member_card = NULL, key_fob = NULL,
           birth_date = date_trunc('year', c.birth_date)::date, address_id = NULL,
           customer_no = encode(sha256(v_salt || convert_to(c.customer_no, 'UTF8')), 'hex'),
           anonymized_at = now()
     WHERE c.club_id = p_club AND c.id = ANY (v_ids);
    DELETE FROM club.addresses a
     WHERE a.club_id = p_club AND a.id = ANY (v_addr)
       AND NOT EXISTS (SELECT FROM club.customers c WHERE c.club_id = a.club_id AND c.address_id = a.id);
    RETURN cardinality(v_ids);
END $$;
"""


def pick(conn, singles: int, batch: int, batches: int, seed: int):
    """Customers to erase, in pairs (engine, hand) drawn alike: single ones spread over
    clubs, then --batches pairs of disjoint batches, each pair of one club, the biggest
    clubs in turn (with fewer clubs than pairs, a club gives several pairs)."""
    rng = random.Random(seed)
    rows = conn.execute("""SELECT c.club_id, c.id FROM club.customers c
                            WHERE c.anonymized_at IS NULL
                              AND NOT EXISTS (SELECT FROM gdpr.legal_hold h
                                               WHERE h.subject_key = c.id::text AND h.cleared_at IS NULL)
                            ORDER BY c.club_id, c.id""").fetchall()
    by_club: dict[int, list[int]] = {}
    for club, cid in rows:
        by_club.setdefault(club, []).append(cid)
    clubs = sorted(by_club, key=lambda c: -len(by_club[c]))
    batch_pairs = []
    for i in range(batches):
        club = clubs[i % len(clubs)]
        ids = by_club[club]
        rng.shuffle(ids)
        size = min(batch, len(ids) // 2)
        batch_pairs.append((club, sorted(ids[:size]), sorted(ids[size:2 * size])))
        by_club[club] = ids[2 * size:]
    rest = [(club, cid) for club in clubs for cid in by_club[club]]
    rng.shuffle(rest)
    return list(zip(rest[:singles], rest[singles:2 * singles])), batch_pairs


def timed(conn, sql, params) -> tuple[float, float, int, int]:
    """(wall seconds, WAL bytes, full-page images, rows returned) of one autocommit call."""
    before = wal_counters(conn)
    start = time.perf_counter()
    rows = conn.execute(sql, params).fetchall()
    seconds = time.perf_counter() - start
    wal, fpi = wal_since(conn, before)
    return seconds, wal, fpi, len(rows)


def abba(i: int, engine_call, hand_call) -> tuple:
    """Run the pair's two calls, the engine first on even pairs, the hand-written first on odd."""
    if i % 2 == 0:
        return engine_call(), hand_call()
    hand = hand_call()
    return engine_call(), hand


ENGINE_SINGLE = "SELECT gdpr.anonymize('customer', %s, 'bench', %s)"
ENGINE_BATCH = "SELECT * FROM gdpr.anonymize_many('customer', %s, %s, 'bench')"
HAND = "SELECT bench_hand.erase(%s, %s)"


def checkpoints(conn) -> int:
    return conn.execute("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter").fetchone()[0]


def run_pairs(conn, pairs, outcomes: dict) -> list[dict]:
    """ABBA over batch pairs; one dict per pair with both sides' seconds, WAL and FPI."""
    results = []
    for i, (club, ids, hand_ids) in enumerate(pairs):
        def engine_batch():
            before = wal_counters(conn)
            started = time.perf_counter()
            rows = conn.execute(ENGINE_BATCH, (str(club), [str(k) for k in ids])).fetchall()
            seconds = time.perf_counter() - started
            wal, fpi = wal_since(conn, before)
            for _, outcome, _ in rows:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            return seconds, wal, fpi
        (e_s, e_wal, e_fpi), (h_s, h_wal, h_fpi, _) = abba(i, engine_batch, lambda: timed(conn, HAND, (club, hand_ids)))
        results.append({"club": club, "n_engine": len(ids), "n_hand": len(hand_ids),
                        "engine_s": e_s, "hand_s": h_s, "engine_wal": e_wal, "hand_wal": h_wal,
                        "engine_fpi": e_fpi, "hand_fpi": h_fpi})
    return results


def summarise(label: str, results: list[dict]) -> dict:
    """Both sides over a list of pair results: median rate of the batches, overall rate
    (customers / seconds), WAL and full-page images per customer."""
    n_e = sum(r["n_engine"] for r in results)
    n_h = sum(r["n_hand"] for r in results)
    e_rates = [r["n_engine"] / r["engine_s"] for r in results]
    h_rates = [r["n_hand"] / r["hand_s"] for r in results]
    e_overall = n_e / sum(r["engine_s"] for r in results)
    h_overall = n_h / sum(r["hand_s"] for r in results)
    return {"window": label, "pairs": len(results),
            "engine /s": e_overall, "hand /s": h_overall, "ratio": h_overall / e_overall,
            "engine median /s": statistics.median(e_rates), "hand median /s": statistics.median(h_rates),
            "engine min..max": f"{min(e_rates):,.0f}..{max(e_rates):,.0f}",
            "hand min..max": f"{min(h_rates):,.0f}..{max(h_rates):,.0f}",
            "engine KB WAL/c": sum(r["engine_wal"] for r in results) / n_e / 1024,
            "hand KB WAL/c": sum(r["hand_wal"] for r in results) / n_h / 1024,
            "engine FPI/c": sum(r["engine_fpi"] for r in results) / n_e,
            "hand FPI/c": sum(r["hand_fpi"] for r in results) / n_h}


PROFILE_QUERY = """
SELECT round(total_exec_time::numeric, 1) AS total_ms, calls,
       round((total_exec_time / NULLIF(calls, 0))::numeric, 3) AS mean_ms, rows,
       wal_fpi, round(wal_bytes / 1024.0 / 1024.0, 1) AS wal_mb,
       shared_blks_hit + shared_blks_read AS blocks,
       regexp_replace(left(query, 160), '\s+', ' ', 'g') AS statement
  FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND query NOT ILIKE '%pg_stat_%' AND query NOT ILIKE '%pg_current_wal%'
 ORDER BY total_exec_time DESC LIMIT {top}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--clubs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--singles", type=int, default=30)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=6, help="pairs in the cold window")
    parser.add_argument("--sustained", type=int, default=50000,
                        help="customers per side in the sustained run after the cold window (0: none)")
    parser.add_argument("--window", type=int, default=10, help="pairs per reported window of the sustained run")
    parser.add_argument("--profile-statements", action="store_true",
                        help="track every statement with pg_stat_statements and print where the time goes")
    parser.add_argument("--top", type=int, default=40, help="statements printed by --profile-statements")
    add_profile_argument(parser)
    args = parser.parse_args()
    use_profile(args)

    sustained_pairs = -(-args.sustained // args.batch) if args.sustained else 0
    dsn = fresh_copy(seeded_dsn(args.customers, args.clubs, args.seed))
    try:
        migrate(dsn, club_schema=True)  # this checkout's functions (and the erasure guards)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(HAND_WRITTEN)
            print(environment(conn))
            single_pairs, batch_pairs = pick(conn, args.singles, args.batch, args.batches + sustained_pairs,
                                             args.seed)
            linked = conn.execute("SELECT round(avg(n)) FROM (SELECT count(*) n FROM club.log_lines "
                                  "GROUP BY club_id, customer_id) q").fetchone()[0]
            if args.profile_statements:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                conn.execute("SET pg_stat_statements.track = 'all'")
                conn.execute("SELECT pg_stat_statements_reset()")
            conn.execute("CHECKPOINT")
            checkpoints_before = checkpoints(conn)
            single_engine, single_hand, verdicts = [], [], set()
            for i, ((club, cid), (hand_club, hand_cid)) in enumerate(single_pairs):
                def engine_single():
                    started = time.perf_counter()
                    summary = conn.execute(ENGINE_SINGLE, (str(cid), str(club))).fetchone()[0]
                    verdicts.add(summary["proof"]["verdict"])
                    return (time.perf_counter() - started) * 1000.0
                e, (h, _, _, _) = abba(i, engine_single, lambda: timed(conn, HAND, (hand_club, [hand_cid])))
                single_engine.append(e)
                single_hand.append(h * 1000.0)
            outcomes: dict = {}
            started = time.perf_counter()
            cold = run_pairs(conn, batch_pairs[:args.batches], outcomes)
            sustained = run_pairs(conn, batch_pairs[args.batches:], outcomes)
            run_seconds = time.perf_counter() - started
            checkpoints_during = checkpoints(conn) - checkpoints_before
            hits = conn.execute("SELECT count(*) FROM gdpr.audit_event WHERE action = 'anonymize'").fetchone()[0]
            profile = []
            if args.profile_statements:
                conn.execute("SET pg_stat_statements.track = 'none'")
                profile = [dict(zip(("total ms", "calls", "mean ms", "rows", "FPI", "WAL MB", "blocks",
                                     "statement"), r)) for r in conn.execute(PROFILE_QUERY.replace("{top}", str(int(args.top))))]
            environment_after = environment(conn)
    finally:
        drop_copy(dsn)

    s_e, s_h = stats(single_engine), stats(single_hand)
    print(f"\nerasure at {args.customers:,} customers in {args.clubs} clubs (about {linked} log lines a customer); "
          f"proof verdicts of the singles: {sorted(verdicts)}; batch outcomes: {outcomes}; audit events: {hits:,}")
    print_rows("single customer, wall ms (commit included)", [
        {"workload": "gdpr.anonymize", "median": s_e["median"], "p95": s_e["p95"], "n": s_e["n"]},
        {"workload": "hand-written SQL", "median": s_h["median"], "p95": s_h["p95"], "n": s_h["n"]},
        {"workload": "ratio engine / hand", "median": s_e["median"] / s_h["median"],
         "p95": s_e["p95"] / s_h["p95"], "n": None},
    ])
    rows = [summarise(f"cold: first {len(cold)} pairs after CHECKPOINT", cold)] if cold else []
    for start in range(0, len(sustained), args.window):
        part = sustained[start:start + args.window]
        rows.append(summarise(f"sustained pairs {start + 1}-{start + len(part)}", part))
    if sustained:
        rows.append(summarise(f"SUSTAINED, all {len(sustained)} pairs", sustained))
        half = sustained[len(sustained) // 2:]
        rows.append(summarise(f"sustained, 2nd half ({len(half)} pairs)", half))
    print_rows(f"batches of up to {args.batch} customers of one club, ABBA, customers/s (commit included); "
               f"'/s' = customers / seconds of the window, ratio = hand / engine", rows)
    print(f"\n{len(cold) + len(sustained)} pairs in {run_seconds:.0f} s; checkpoints during the batches: "
          f"{checkpoints_during}")
    print(environment_after)
    if profile:
        print_rows(f"pg_stat_statements (track = all) over singles and batches, top {args.top} by total time",
                   profile)
    if sustained:
        whole = summarise("", sustained)
        ok = whole["engine /s"] >= 2000 and whole["ratio"] <= 1.25
        print(f"\nsustained: engine {whole['engine /s']:,.0f}/s, hand-written {whole['hand /s']:,.0f}/s, "
              f"ratio {whole['ratio']:.2f} (targets >= 2,000/s and <= 1.25x): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
