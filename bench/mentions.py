"""What the erasure's search for mentions in other subjects' rows costs: the trigram
indexes on the declared free-text columns (size, build time, insert overhead on log
lines) and erasure time with the search and its indexes, with the search and no
indexes, and without the search (the erasure before it: the baseline), in one run.

    python bench/mentions.py --customers 1000000 [--clubs 50] [--singles 20] [--batch 200]
                             [--batches 2] [--inserts 300] [--rounds 4]

On one fresh copy (bench/common.py fresh_copy) of the seeded database (an existing one
is used as it is: this script migrates only its copy, never the shared seeded
database), brought to this work tree's engine (functions another work tree left there
with another signature are dropped in the copy first):

1. indexes: built as `pgdpr migrate` builds them (CREATE INDEX CONCURRENTLY, one by
   one, gdpr.mention_index_plan), timed; size of each next to its table's;
2. inserts: INSERT of one log line (autocommit, client wall time, median of
   --inserts statements a round) and one INSERT of 10,000 log lines, with the log-line
   index and without it (dropped between rounds), in ABBA order;
3. erasure, indexes present: single erasures (gdpr.anonymize, wall time with commit)
   and batches (gdpr.anonymize_many) with the mention search ('mentions') and with it
   replaced by a no-op ('baseline'), interleaved ABBA, disjoint random customers of
   one club;
4. erasure, indexes dropped: the same for 'mentions, no index'.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

import psycopg

from common import bench_cluster, drop_copy, fresh_copy, print_rows, seeded_dsn
import pgdpr.migrate
from pgdpr.migrate import install_mention_indexes, migrate
from pgdpr.resources import resource_dir

NOOP = """CREATE OR REPLACE FUNCTION gdpr.erase_mentions(p_kind text, p_tenant text, p_mentions jsonb)
          RETURNS jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb $$"""


def base_dsn(customers: int, clubs: int) -> str:
    """The seeded database, as it is when it exists (no migrate: others use it)."""
    cluster = bench_cluster()
    name = f"bench_{customers}_{clubs}_1"
    with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
        if admin.execute("SELECT EXISTS (SELECT FROM pg_database WHERE datname = %s)", (name,)).fetchone()[0]:
            return cluster.dsn(name)
    return seeded_dsn(customers, clubs)


def migrate_copy(dsn: str) -> None:
    """Bring the copy to this work tree's engine. The shared seeded database may carry
    functions of another work tree's engine whose signature differs from ours: drop
    each one the migrate names (HINT: Use DROP FUNCTION ... first) and retry."""
    for _ in range(30):
        try:
            migrate(dsn, club_schema=True)  # without its index builds: timed below
            return
        except psycopg.errors.InvalidFunctionDefinition as exc:
            hint = exc.diag.message_hint or ""
            if not hint.startswith("Use DROP FUNCTION ") or not hint.endswith(" first."):
                raise
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"DROP FUNCTION {hint[len('Use DROP FUNCTION '):-len(' first.')]} CASCADE")
    raise RuntimeError("bench: the copy could not be migrated")


def mention_indexes(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indexrelid::regclass::text LIKE '%gdpr_mention' "
        "ORDER BY 1")]


def drop_indexes(conn, only: str | None = None) -> None:
    for name in mention_indexes(conn):
        if only is None or only in name:
            conn.execute(f"DROP INDEX {name}")


def erasure_function(conn, definition: str | None) -> None:
    """The real gdpr.erase_mentions (its saved definition) or the no-op of the baseline."""
    conn.execute(definition or NOOP)


def single_ms(conn, club: int, customer: int) -> float:
    started = time.perf_counter()
    conn.execute("SELECT gdpr.anonymize('customer', %s, 'bench', %s)", (str(customer), str(club)))
    return (time.perf_counter() - started) * 1000.0


def batch_per_s(conn, club: int, customers: list[int]) -> float:
    started = time.perf_counter()
    conn.execute("SELECT count(*) FROM gdpr.anonymize_many('customer', %s, %s, 'bench')",
                 (str(club), [str(c) for c in customers]))
    return len(customers) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--clubs", type=int, default=50)
    parser.add_argument("--singles", type=int, default=20, help="single erasures per variant and round")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--batches", type=int, default=1, help="batches per variant and round")
    parser.add_argument("--inserts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    dsn = fresh_copy(base_dsn(args.customers, args.clubs))
    pgdpr.migrate.install_mention_indexes = lambda _dsn: 0  # migrate_copy: the builds are timed apart
    report: list[tuple[str, list[dict]]] = []
    try:
        migrate_copy(dsn)
        with psycopg.connect(dsn, autocommit=True) as conn:
            trgm = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'pg_trgm'").fetchone()
            if trgm is None:
                sys.exit("bench: pg_trgm is not installed in the copy: nothing to measure")
            real = conn.execute("SELECT pg_get_functiondef('gdpr.erase_mentions(text,text,jsonb)'::regprocedure)"
                                ).fetchone()[0]
            # 1. the indexes: build time and size
            drop_indexes(conn)
            started = time.perf_counter()
            built = install_mention_indexes(dsn) // 2  # CREATE INDEX CONCURRENTLY, as `pgdpr migrate` does
            build_s = time.perf_counter() - started
            conn.execute("VACUUM (ANALYZE) club.log_lines, club.notes, club.table_bookings, club.account_movements")
            sizes = conn.execute(
                """SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text,
                          pg_relation_size(i.indexrelid), pg_relation_size(i.indrelid), c.reltuples::bigint
                     FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                    WHERE i.indexrelid::regclass::text LIKE '%gdpr_mention' ORDER BY 1""").fetchall()
            report.append((f"mention indexes ({built} built in {build_s:.1f} s, pg_trgm {trgm[0]})", [
                {"index": n, "index MB": s / 2**20, "table MB": t / 2**20, "rows": r,
                 "bytes a row": s / max(r, 1)} for n, _, s, t, r in sizes]))

            club = conn.execute("SELECT club_id FROM club.customers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
                                ).fetchone()[0]
            live = [r[0] for r in conn.execute(
                "SELECT id FROM club.customers WHERE club_id = %s AND anonymized_at IS NULL", (club,))]
            random.Random(1).shuffle(live)

            # 2. inserts into log lines with and without the index
            ins: dict[str, dict[str, list[float]]] = {"index": {}, "no index": {}}
            for rnd in range(args.rounds):
                for mode in (("index", "no index") if rnd % 2 == 0 else ("no index", "index")):
                    if mode == "index":
                        conn.execute("SELECT gdpr.install_mention_indexes()")
                    else:
                        drop_indexes(conn, "log_lines")
                    times = []
                    for i in range(args.inserts):
                        started = time.perf_counter()
                        conn.execute("INSERT INTO club.log_lines (club_id, customer_id, text) VALUES (%s, %s, %s)",
                                     (club, live[i], f"Mette Hansen ringede fra 20 99 {i:04d} om sin betaling"))
                        times.append((time.perf_counter() - started) * 1000.0)
                    ins[mode].setdefault("INSERT one log line, ms", []).append(statistics.median(times))
                    started = time.perf_counter()
                    conn.execute("""INSERT INTO club.log_lines (club_id, customer_id, text)
                                    SELECT %s, %s, 'Mette Hansen ringede fra 20 99 ' || g || ' om sin betaling'
                                      FROM generate_series(1, 10000) g""", (club, live[0]))
                    ins[mode].setdefault("INSERT 10,000 log lines, ms", []).append(
                        (time.perf_counter() - started) * 1000.0)
            conn.execute("SELECT gdpr.install_mention_indexes()")
            report.append(("inserts into club.log_lines (median over rounds)", [
                {"statement": k, "with index": statistics.median(ins["index"][k]),
                 "without": statistics.median(ins["no index"][k]),
                 "ratio": statistics.median(ins["index"][k]) / statistics.median(ins["no index"][k])}
                for k in ins["index"]]))

            # 3./4. erasures
            pool = iter(live[args.inserts:])
            erasure: dict[str, dict[str, list[float]]] = {}
            for phase in ("index", "no index"):
                if phase == "no index":
                    drop_indexes(conn)
                variants = ("baseline", f"mentions, {phase}")
                for rnd in range(args.rounds):
                    for variant in (variants if rnd % 2 == 0 else variants[::-1]):
                        erasure_function(conn, None if variant == "baseline" else real)
                        samples = erasure.setdefault(variant, {"single": [], "batch": []})
                        samples["single"] += [single_ms(conn, club, next(pool)) for _ in range(args.singles)]
                        samples["batch"] += [batch_per_s(conn, club, [next(pool) for _ in range(args.batch)])
                                             for _ in range(args.batches)]
            erasure_function(conn, real)
            conn.execute("SELECT gdpr.install_mention_indexes()")
            rows = []
            for variant, samples in erasure.items():
                single = sorted(samples["single"])
                rows.append({"variant": variant, "single median ms": statistics.median(single),
                             "single p95 ms": single[int(0.95 * (len(single) - 1))],
                             f"batch of {args.batch}, customers/s": statistics.median(samples["batch"]),
                             "n single": len(single)})
            report.append((f"erasure, one club of {len(live):,} live customers "
                           f"({args.customers:,} customers in {args.clubs} clubs)", rows))
    finally:
        drop_copy(dsn)
    for title, rows in report:
        print_rows(title, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
