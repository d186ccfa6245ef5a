"""What the erasure guards cost ordinary writes: the same statements on a declared
table with the guard triggers (gdpr_erasure_guard on INSERT, gdpr_erasure_guard_update
on UPDATE) and without them (dropped), side by side in one run.

    python bench/erasure_guard.py --customers 20000 [--clubs 1] [--rounds 4] [--statements 200]

On one fresh copy (bench/common.py fresh_copy) of the seeded database, for customers
that are not anonymised, interleaved in ABBA order (guarded, bare, bare, guarded, ...),
wall time per autocommit statement on the client:
- INSERT of one log line;
- UPDATE of one log line's text (a declared column: the update guard checks it);
- UPDATE of one log line's written_at (not declared: the update guard finds nothing);
- UPDATE of the text of every tenth log line of the club's live customers (one statement).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

import psycopg

from common import drop_copy, fresh_copy, print_rows, seeded_dsn
from pgdpr.migrate import migrate

STATEMENTS = {
    "INSERT one log line":
        "INSERT INTO club.log_lines (club_id, customer_id, text) VALUES (%(club)s, %(customer)s, 'ringede')",
    "UPDATE one log line's text (declared)":
        "UPDATE club.log_lines SET text = text || '.' WHERE club_id = %(club)s AND id = %(line)s",
    "UPDATE one log line's written_at (not declared)":
        "UPDATE club.log_lines SET written_at = written_at + interval '1 second' "
        "WHERE club_id = %(club)s AND id = %(line)s",
}
BULK = ("UPDATE club.log_lines SET text = text || '.' WHERE club_id = %(club)s AND id %% 10 = %(round)s "
        "AND customer_id IN (SELECT id FROM club.customers WHERE club_id = %(club)s AND anonymized_at IS NULL)")


def set_guards(conn, on: bool) -> None:
    if on:
        conn.execute("SELECT gdpr.install_erasure_guards()")
        return
    for name, rel in conn.execute("SELECT tgname, tgrelid::regclass::text FROM pg_trigger "
                                  "WHERE tgname IN ('gdpr_erasure_guard', 'gdpr_erasure_guard_update')").fetchall():
        conn.execute(f'DROP TRIGGER "{name}" ON {rel}')


def run_round(conn, club: int, lines: list[tuple[int, int]], rnd: int) -> dict[str, float]:
    """Median ms of each single-row statement over `lines`, and the bulk statement's ms."""
    result = {}
    for label, sql in STATEMENTS.items():
        times = []
        for customer, line in lines:
            started = time.perf_counter()
            conn.execute(sql, {"club": club, "customer": customer, "line": line})
            times.append((time.perf_counter() - started) * 1000.0)
        result[label] = statistics.median(times)
    started = time.perf_counter()
    rows = conn.execute(BULK, {"club": club, "round": rnd % 10}).rowcount
    result[f"UPDATE text of every tenth log line ({rows:,} rows)"] = (time.perf_counter() - started) * 1000.0
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--clubs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--statements", type=int, default=200)
    args = parser.parse_args()

    dsn = fresh_copy(seeded_dsn(args.customers, args.clubs))
    try:
        migrate(dsn, club_schema=True)
        with psycopg.connect(dsn, autocommit=True) as conn:
            club = conn.execute("SELECT club_id FROM club.customers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
                                ).fetchone()[0]
            live = conn.execute("""SELECT l.customer_id, l.id FROM club.log_lines l
                                     JOIN club.customers c ON c.club_id = l.club_id AND c.id = l.customer_id
                                    WHERE l.club_id = %s AND c.anonymized_at IS NULL""", (club,)).fetchall()
            random.Random(1).shuffle(live)
            samples: dict[str, dict[str, list[float]]] = {"guarded": {}, "bare": {}}
            for rnd in range(args.rounds):
                order = ("guarded", "bare") if rnd % 2 == 0 else ("bare", "guarded")
                for i, mode in enumerate(order):
                    set_guards(conn, mode == "guarded")
                    start = (2 * rnd + i) * args.statements
                    for label, ms in run_round(conn, club, live[start:start + args.statements], rnd).items():
                        samples[mode].setdefault(label.split(" (")[0] if "tenth" in label else label, []).append(ms)
            set_guards(conn, True)
    finally:
        drop_copy(dsn)

    rows = []
    for label in samples["guarded"]:
        guarded, bare = statistics.median(samples["guarded"][label]), statistics.median(samples["bare"][label])
        rows.append({"statement": label, "guarded ms": guarded, "bare ms": bare, "extra ms": guarded - bare,
                     "ratio": guarded / bare})
    print_rows(f"erasure guards, {args.customers:,} customers in {args.clubs} club(s), "
               f"median over {args.rounds} rounds (single rows: median of {args.statements} statements a round)", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
