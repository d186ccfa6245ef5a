"""Seeding rate: `pgdpr demo seed` beside a plain SQL load of the same rows.

    python bench/seed.py --customers 20000 [--clubs 50] [--seed 1] [--keep]
    python bench/seed.py --stop          # stop the benchmark cluster

Both loads run in the same run on the benchmark cluster (bench/common.py), each
into its own fresh database with the engine, the club schema (all indexes and
foreign keys) and the club catalog:

- seeder: `pgdpr.seed.seed()` — Faker pools, customers by COPY, linked rows by SQL
  in time order, foreign keys and indexes dropped and rebuilt around the load;
- baseline: hand-written `INSERT ... SELECT generate_series` of exactly as many rows
  per table (trivial values, customers interleaved, constraints and indexes in place),
  as shared/performance-floor.md measured it.

Each is timed to COMMIT, then VACUUM (ANALYZE) is timed apart; rows/s is given
without and with it.
"""

from __future__ import annotations

import argparse
import sys
import time

import psycopg
from psycopg import sql as pgsql

from common import bench_cluster, print_rows, stop_bench_cluster

from pgdpr.catalog import apply as apply_catalog
from pgdpr.migrate import migrate
from pgdpr.resources import resource_dir
from pgdpr.seed import seed as run_seed

TEMPLATE = "bench_seed_template"


def empty_template(cluster) -> None:
    """A database with engine, club schema and catalog and no data, brought up to the
    work tree's engine on every run (migrate is idempotent)."""
    with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
        if not admin.execute("SELECT EXISTS (SELECT FROM pg_database WHERE datname = %s)",
                             (TEMPLATE,)).fetchone()[0]:
            admin.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(TEMPLATE)))
    dsn = cluster.dsn(TEMPLATE)
    migrate(dsn, club_schema=True)
    with psycopg.connect(dsn, autocommit=True) as conn:
        apply_catalog(conn, resource_dir("catalogs") / "club.toml")


def fresh_database(cluster, name: str) -> str:
    with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
        admin.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))
        admin.execute(pgsql.SQL("CREATE DATABASE {} TEMPLATE {}").format(pgsql.Identifier(name),
                                                                         pgsql.Identifier(TEMPLATE)))
    return cluster.dsn(name)


def drop_database(cluster, name: str) -> None:
    with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
        admin.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))


# The hand-written load: %(n)s rows of each table, every row of a club table in the club
# its parent row belongs to (row k of a per-club table belongs to club 1 + (k-1) % C).
BASELINE = {
    "clubs": "INSERT INTO club.clubs (id, name) SELECT g, 'Club ' || g FROM generate_series(1, %(n)s) g",
    "staff": """INSERT INTO club.staff (club_id, id, first_name, last_name)
                SELECT 1 + (g - 1) %% %(c)s, g, 'Staff', 'Member ' || g FROM generate_series(1, %(n)s) g""",
    "custom_fields": """INSERT INTO club.custom_fields (club_id, id, name, is_sensitive)
                SELECT 1 + (g - 1) %% %(c)s, g, 'Field ' || g, (g - 1) / %(c)s = 2 FROM generate_series(1, %(n)s) g""",
    "resources": """INSERT INTO club.resources (club_id, id, name)
                SELECT 1 + (g - 1) %% %(c)s, g, 'Resource ' || g FROM generate_series(1, %(n)s) g""",
    "classes": """INSERT INTO club.classes (club_id, id, name, starts_at)
                SELECT 1 + (g - 1) %% %(c)s, g, 'Class', now() - g * interval '1 minute'
                  FROM generate_series(1, %(n)s) g""",
    "addresses": """INSERT INTO club.addresses (club_id, id, street, postcode, city)
                SELECT 1 + (g - 1) %% %(c)s, g, 'Street ' || g, '8000', 'Aarhus' FROM generate_series(1, %(n)s) g""",
    "customers": """INSERT INTO club.customers (club_id, id, customer_no, first_name, last_name, address_id, email,
                        phone, member_card)
                SELECT 1 + (g - 1) %% %(c)s, g, g::text, 'First ' || g, 'Last ' || g, g, 'c' || g || '@example.dk',
                       '+45 ' || (20000000 + g), 'MC' || g
                  FROM generate_series(1, %(n)s) g""",
    "custom_field_values": """INSERT INTO club.custom_field_values (club_id, customer_id, field_id, is_sensitive, value)
                SELECT 1 + (g %% %(m)s) %% %(c)s, 1 + g %% %(m)s, (g / %(m)s) * %(c)s + (g %% %(m)s) %% %(c)s + 1,
                       g / %(m)s = 2, 'value'
                  FROM generate_series(0, %(n)s - 1) g""",
    "consents": """INSERT INTO club.consents (club_id, customer_id, consent_type, version, given_at, evidence)
                SELECT 1 + (g %% %(m)s) %% %(c)s, 1 + g %% %(m)s, 'terms', 'v1', now() - g * interval '1 second',
                       'online' FROM generate_series(0, %(n)s - 1) g""",
    "account_movements": """INSERT INTO club.account_movements (club_id, customer_id, amount, text, booked_at)
                SELECT 1 + (g %% %(m)s) %% %(c)s, 1 + g %% %(m)s, -299, 'Kontingent', now() - g * interval '1 second'
                  FROM generate_series(0, %(n)s - 1) g""",
    "activities": """INSERT INTO club.activities (club_id, customer_id, kind, occurred_at)
                SELECT 1 + (g %% %(m)s) %% %(c)s, 1 + g %% %(m)s, 'check_in', now() - g * interval '1 second'
                  FROM generate_series(0, %(n)s - 1) g""",
    "reservations": """INSERT INTO club.reservations (club_id, customer_id, resource_id, starts_at, ends_at)
                SELECT 1 + (g %% %(m)s) %% %(c)s, 1 + g %% %(m)s, (g %% %(m)s) %% %(c)s + 1,
                       now() - g * interval '1 second', now() - g * interval '1 second' + interval '1 hour'
                  FROM generate_series(0, %(n)s - 1) g""",
    "class_enrollments": """INSERT INTO club.class_enrollments (club_id, class_id, customer_id, enrolled_at)
                SELECT 1 + (g %% %(m)s) %% %(c)s, (g %% %(m)s) %% %(c)s + 1, 1 + g %% %(m)s,
                       now() - g * interval '1 second' FROM generate_series(0, %(n)s - 1) g""",
    "table_bookings": """INSERT INTO club.table_bookings (club_id, customer_id, booked_for, party_size, note)
                SELECT 1 + (g %% %(m)s) %% %(c)s, 1 + g %% %(m)s, now() - g * interval '1 second', 4, 'Bord'
                  FROM generate_series(0, %(n)s - 1) g""",
    "log_lines": """INSERT INTO club.log_lines (club_id, customer_id, staff_id, written_at, text)
                SELECT 1 + (g %% %(m)s) %% %(c)s, 1 + g %% %(m)s, (g %% %(m)s) %% %(c)s + 1,
                       now() - g * interval '1 second', 'Ringede om betaling' FROM generate_series(0, %(n)s - 1) g""",
    "notes": """INSERT INTO club.notes (club_id, customer_id, staff_id, written_at, text)
                SELECT 1 + (g %% %(m)s) %% %(c)s, 1 + g %% %(m)s, (g %% %(m)s) %% %(c)s + 1,
                       now() - g * interval '1 second', 'Note' FROM generate_series(0, %(n)s - 1) g""",
}


def baseline_load(dsn: str, rows: dict[str, int], clubs: int, customers: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:  # one transaction, like the seeder
        for table, statement in BASELINE.items():
            conn.execute(statement, {"n": rows.get(table, 0), "c": clubs, "m": customers})
    return time.perf_counter() - started


def vacuum(dsn: str) -> float:
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--clubs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the two databases afterwards")
    parser.add_argument("--stop", action="store_true", help="stop the benchmark cluster and exit")
    args = parser.parse_args()
    if args.stop:
        print("stopped" if stop_bench_cluster() else "not running")
        return
    cluster = bench_cluster()
    empty_template(cluster)
    with psycopg.connect(cluster.dsn()) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]

    seeded_name, baseline_name = f"bench_seed_{args.customers}", f"bench_seed_{args.customers}_baseline"
    dsn = fresh_database(cluster, seeded_name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        report = run_seed(conn, clubs=args.clubs, customers=args.customers, seed=args.seed,
                          progress=lambda m: print(f"  seeder: {m}", file=sys.stderr))
    seeder_vacuum = vacuum(dsn)

    baseline_dsn = fresh_database(cluster, baseline_name)
    print("  baseline: INSERT ... SELECT generate_series, same tables and row counts", file=sys.stderr)
    baseline_seconds = baseline_load(baseline_dsn, report.rows, report.clubs, report.customers)
    baseline_vacuum = vacuum(baseline_dsn)

    total = report.total_rows

    def row(method: str, seconds: float, vacuum_seconds: float) -> dict:
        return {"load": method, "rows": total, "seconds": seconds, "rows/s": total / seconds,
                "+VACUUM ANALYZE s": vacuum_seconds, "rows/s incl. VACUUM": total / (seconds + vacuum_seconds)}

    print_rows(f"Seeding {args.customers:,} customers in {args.clubs} clubs (PostgreSQL {version}, "
               f"{total / max(args.customers, 1):.1f} rows per customer, all tables)", [
        row("pgdpr demo seed (COPY + SQL, keys rebuilt)", report.seconds, seeder_vacuum),
        row("baseline: INSERT ... SELECT generate_series", baseline_seconds, baseline_vacuum),
    ])
    print_rows("Rows per table", [{"table": t, "rows": n} for t, n in report.rows.items()])
    if not args.keep:
        drop_database(cluster, seeded_name)
        drop_database(cluster, baseline_name)


if __name__ == "__main__":
    main()
