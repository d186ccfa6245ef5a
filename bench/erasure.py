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
Targets (issue 4, at 1M customers): single median < 50 ms; batch >= 2,000 customers/s
and within 2x of the baseline.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

import psycopg

from common import drop_copy, fresh_copy, print_rows, seeded_dsn, stats
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


def timed(conn, sql, params) -> tuple[float, float]:
    """(wall ms, WAL bytes written) of one autocommit call."""
    before = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
    start = time.perf_counter()
    conn.execute(sql, params).fetchall()
    ms = (time.perf_counter() - start) * 1000.0
    wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", (before,)).fetchone()[0]
    return ms, float(wal)


def abba(i: int, engine_call, hand_call) -> tuple:
    """Run the pair's two calls, the engine first on even pairs, the hand-written first on odd."""
    if i % 2 == 0:
        return engine_call(), hand_call()
    hand = hand_call()
    return engine_call(), hand


ENGINE_SINGLE = "SELECT gdpr.anonymize('customer', %s, 'bench', %s)"
ENGINE_BATCH = "SELECT * FROM gdpr.anonymize_many('customer', %s, %s, 'bench')"
HAND = "SELECT bench_hand.erase(%s, %s)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--clubs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--singles", type=int, default=30)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=3)
    args = parser.parse_args()

    dsn = fresh_copy(seeded_dsn(args.customers, args.clubs, args.seed))
    try:
        migrate(dsn, club_schema=True)  # this checkout's functions (and the erasure guards)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(HAND_WRITTEN)
            single_pairs, batch_pairs = pick(conn, args.singles, args.batch, args.batches, args.seed)
            linked = conn.execute("SELECT round(avg(n)) FROM (SELECT count(*) n FROM club.log_lines "
                                  "GROUP BY club_id, customer_id) q").fetchone()[0]
            conn.execute("CHECKPOINT")
            single_engine, single_hand, verdicts = [], [], set()
            for i, ((club, cid), (hand_club, hand_cid)) in enumerate(single_pairs):
                def engine_single():
                    started = time.perf_counter()
                    summary = conn.execute(ENGINE_SINGLE, (str(cid), str(club))).fetchone()[0]
                    verdicts.add(summary["proof"]["verdict"])
                    return (time.perf_counter() - started) * 1000.0
                e, (h, _) = abba(i, engine_single, lambda: timed(conn, HAND, (hand_club, [hand_cid])))
                single_engine.append(e)
                single_hand.append(h)
            batch_engine, batch_hand, wal_engine, wal_hand, outcomes = [], [], [], [], {}
            for i, (club, ids, hand_ids) in enumerate(batch_pairs):
                def engine_batch():
                    before = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
                    started = time.perf_counter()
                    rows = conn.execute(ENGINE_BATCH, (str(club), [str(k) for k in ids])).fetchall()
                    seconds = time.perf_counter() - started
                    wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)",
                                       (before,)).fetchone()[0]
                    for _, outcome, _ in rows:
                        outcomes[outcome] = outcomes.get(outcome, 0) + 1
                    return seconds, float(wal)
                (e_s, e_wal), (h_ms, h_wal) = abba(i, engine_batch, lambda: timed(conn, HAND, (club, hand_ids)))
                batch_engine.append(len(ids) / e_s)
                batch_hand.append(len(hand_ids) / (h_ms / 1000.0))
                wal_engine.append(e_wal / len(ids) / 1024)
                wal_hand.append(h_wal / len(hand_ids) / 1024)
            hits = conn.execute("SELECT count(*) FROM gdpr.audit_event WHERE action = 'anonymize'").fetchone()[0]
    finally:
        drop_copy(dsn)

    s_e, s_h = stats(single_engine), stats(single_hand)
    b_e, b_h = stats(batch_engine), stats(batch_hand)
    print(f"\nerasure at {args.customers:,} customers in {args.clubs} clubs (about {linked} log lines a customer); "
          f"proof verdicts of the singles: {sorted(verdicts)}; batch outcomes: {outcomes}; audit events: {hits:,}")
    print_rows("single customer, wall ms (commit included)", [
        {"workload": "gdpr.anonymize", "median": s_e["median"], "p95": s_e["p95"], "n": s_e["n"]},
        {"workload": "hand-written SQL", "median": s_h["median"], "p95": s_h["p95"], "n": s_h["n"]},
        {"workload": "ratio engine / hand", "median": s_e["median"] / s_h["median"],
         "p95": s_e["p95"] / s_h["p95"], "n": None},
    ])
    print_rows(f"batches of up to {args.batch} customers of one club, customers/s (commit included)", [
        {"workload": "gdpr.anonymize_many", "median": b_e["median"], "min": min(batch_engine),
         "WAL KB/customer": statistics.median(wal_engine), "n": b_e["n"]},
        {"workload": "hand-written SQL", "median": b_h["median"], "min": min(batch_hand),
         "WAL KB/customer": statistics.median(wal_hand), "n": b_h["n"]},
        {"workload": "ratio hand / engine", "median": b_h["median"] / b_e["median"], "min": None,
         "WAL KB/customer": None, "n": None},
    ])
    ok = s_e["median"] < 50 and b_e["median"] >= 2000 and b_h["median"] / b_e["median"] <= 2
    print(f"\ntargets (single < 50 ms, batch >= 2,000/s and within 2x of hand-written): "
          f"{'met' if ok else 'NOT met'} at this scale")
    return 0


if __name__ == "__main__":
    sys.exit(main())
