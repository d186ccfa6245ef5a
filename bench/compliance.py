"""Compliance record and catalog coverage, timed on a seeded club database.

    python bench/compliance.py --customers 20000 [--clubs 50] [--runs 7]

Prints, with the hand-written SQL baseline measured in the same run:
- gdpr.compliance_record(club) vs the figures and catalog rows it is built from,
  written by hand (counts per club, catalog join, pg_class row security);
- gdpr.catalog_check() vs reading the rows it samples (200 per table, by hand);
- gdpr.catalog_discover('club').
Server-side times (bench/common.py server_ms), median and p95.
"""

from __future__ import annotations

import argparse

import psycopg

from common import print_rows, seeded_dsn, server_ms, stats

HAND_RECORD = """
SELECT (SELECT jsonb_build_object('subjects', count(*) FILTER (WHERE anonymized_at IS NULL),
                                  'anonymised_this_month', count(*) FILTER (WHERE anonymized_at >= date_trunc('month', now())))
          FROM club.customers WHERE club_id = 1),
       (SELECT count(*) FROM club.staff WHERE club_id = 1),
       (SELECT jsonb_agg(to_jsonb(t) || jsonb_build_object('columns',
                  (SELECT jsonb_agg(to_jsonb(c)) FROM gdpr.catalog_column c
                    WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name),
                  'rls', (SELECT relrowsecurity FROM pg_class WHERE oid = format('%I.%I', t.table_schema, t.table_name)::regclass)))
          FROM gdpr.catalog_table t),
       (SELECT count(*) FROM gdpr.legal_hold WHERE tenant = '1' AND cleared_at IS NULL)
"""


def hand_sample_sql(conn: psycopg.Connection) -> str:
    tables = [r[0] for r in conn.execute(
        "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = 'club'::regnamespace "
        "AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1")]
    return "SELECT " + " + ".join(f"(SELECT count(*) FROM (SELECT * FROM {t} LIMIT 200) s)" for t in tables)


def measure(conn, sql: str, runs: int) -> dict:
    server_ms(conn, sql)  # warm
    return stats(server_ms(conn, sql) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--clubs", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    dsn = seeded_dsn(args.customers, args.clubs)
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = []
        for label, sql in [
            ("gdpr.compliance_record('1')", "SELECT gdpr.compliance_record('1')"),
            ("  baseline: hand-written figures + catalog", HAND_RECORD),
            ("gdpr.compliance_record(NULL), every club", "SELECT gdpr.compliance_record(NULL)"),
            ("gdpr.catalog_check()", "SELECT * FROM gdpr.catalog_check()"),
            ("  baseline: read 200 rows of every table", hand_sample_sql(conn)),
            ("gdpr.catalog_discover('club')", "SELECT * FROM gdpr.catalog_discover('club')"),
        ]:
            s = measure(conn, sql, args.runs)
            rows.append((label, f"{s['median']:.1f}", f"{s['p95']:.1f}"))
        total = conn.execute("SELECT sum(reltuples)::bigint FROM pg_class WHERE relnamespace = 'club'::regnamespace "
                             "AND relkind = 'r'").fetchone()[0]
        print_rows(f"compliance and catalog coverage, {args.customers} customers, {args.clubs} clubs, "
                   f"{total} rows in club.*", rows, ["statement", "median ms", "p95 ms"])


if __name__ == "__main__":
    main()
