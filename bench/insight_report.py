"""Data Insight Report: gdpr.insight_report() beside the same data fetched by hand.

    python bench/insight_report.py --customers 20000 [--clubs 50] [--seed 1] [--runs 50]

On the benchmark cluster (bench/common.py) with a seeded database, it picks the
customer with the most linked rows (about 1,000 at any scale: the seeder's "heavy"
customers) and times, server side (EXPLAIN ANALYZE execution time, bench/common.py
server_ms), N runs each of:

- report (owner):      SELECT gdpr.insight_report('customer', id, club) as the database
                       owner (every sensitive value shown);
- report (staff):      the same as a staff role of the club without the right to
                       sensitive data (values rendered 'kræver login', CPR numbers and the
                       customer's own sensitive values masked inside free text);
- hand-written rows:   one hand-written query per table for the same rows in the same
                       order (the sum of the 11 queries per run; rows are produced but not
                       serialised, so this is the floor no JSON document can reach);
- hand-written jsonb:  the same queries each wrapped in jsonb_agg(to_jsonb(x)): the same
                       data as a JSON document, as a DBA would write it.

It prints median, p95 and minimum of each and the ratios of the report to both
baselines (medians; and of the minimums, which other work on a busy machine disturbs
least).
Everything runs in one transaction that is rolled back: the audit events the reports
write do not stay in the shared seeded database.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid

import psycopg

from common import add_profile_argument, environment, print_rows, seeded_dsn, server_ms, stats, use_profile

# The hand-written fetch of one customer's data in the reference club schema: what a
# DBA would write for this schema alone, one query per table, in primary key order.
HAND_WRITTEN = {
    "customers": "SELECT t.id, t.customer_no, t.first_name, t.last_name, t.address_id, t.email, t.phone, "
                 "t.birth_date, t.cpr, t.bank_reg, t.bank_account, t.photo, t.member_card, t.key_fob, "
                 "t.member_since, t.anonymized_at FROM club.customers t WHERE t.club_id = %(club)s AND t.id = %(id)s",
    "addresses": "SELECT t.id, t.street, t.postcode, t.city FROM club.addresses t WHERE t.club_id = %(club)s "
                 "AND t.id = (SELECT c.address_id FROM club.customers c WHERE c.club_id = %(club)s AND c.id = %(id)s)",
    "custom_field_values": "SELECT t.customer_id, t.field_id, t.is_sensitive, t.value FROM club.custom_field_values t "
                           "WHERE t.club_id = %(club)s AND t.customer_id = %(id)s ORDER BY t.customer_id, t.field_id",
    "class_enrollments": "SELECT t.id, t.class_id, t.customer_id, t.enrolled_at, t.attended FROM club.class_enrollments t "
                         "WHERE t.club_id = %(club)s AND t.customer_id = %(id)s ORDER BY t.id",
    "account_movements": "SELECT t.id, t.customer_id, t.amount, t.text, t.payment_reference, t.booked_at "
                         "FROM club.account_movements t WHERE t.club_id = %(club)s AND t.customer_id = %(id)s ORDER BY t.id",
    "table_bookings": "SELECT t.id, t.customer_id, t.booked_for, t.party_size, t.note, t.created_at FROM club.table_bookings t "
                      "WHERE t.club_id = %(club)s AND t.customer_id = %(id)s ORDER BY t.id",
    "reservations": "SELECT t.id, t.customer_id, t.resource_id, t.starts_at, t.ends_at FROM club.reservations t "
                    "WHERE t.club_id = %(club)s AND t.customer_id = %(id)s ORDER BY t.id",
    "activities": "SELECT t.id, t.customer_id, t.kind, t.occurred_at FROM club.activities t "
                  "WHERE t.club_id = %(club)s AND t.customer_id = %(id)s ORDER BY t.id",
    "log_lines": "SELECT t.id, t.customer_id, t.staff_id, t.written_at, t.text FROM club.log_lines t "
                 "WHERE t.club_id = %(club)s AND t.customer_id = %(id)s ORDER BY t.id",
    "consents": "SELECT t.id, t.customer_id, t.consent_type, t.version, t.given_at, t.withdrawn_at, t.evidence "
                "FROM club.consents t WHERE t.club_id = %(club)s AND t.customer_id = %(id)s ORDER BY t.id",
    "notes": "SELECT t.id, t.customer_id, t.staff_id, t.written_at, t.text FROM club.notes t "
             "WHERE t.club_id = %(club)s AND t.customer_id = %(id)s ORDER BY t.id",
}


def as_jsonb(sql: str) -> str:
    return f"SELECT count(*), COALESCE(jsonb_agg(to_jsonb(x)), '[]') FROM ({sql}) x"


def heaviest_customer(conn) -> tuple[int, int, int]:
    """(club, id, linked rows) of the customer with the most linked rows: candidates from
    the largest per-customer table, then counted across every table."""
    candidates = conn.execute("""SELECT club_id, customer_id FROM club.activities
                                  GROUP BY club_id, customer_id ORDER BY count(*) DESC LIMIT 5""").fetchall()
    best = None
    for club, customer in candidates:
        total = sum(conn.execute(f"SELECT count(*) FROM ({sql}) x", {"club": club, "id": customer}).fetchone()[0]
                    for sql in HAND_WRITTEN.values())
        if best is None or total > best[2]:
            best = (club, customer, total)
    if best is None:
        sys.exit("bench: the database has no activities: seed it first")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--clubs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    add_profile_argument(parser)
    args = parser.parse_args()
    use_profile(args)

    dsn = seeded_dsn(args.customers, args.clubs, args.seed)
    with psycopg.connect(dsn) as conn:  # one transaction, rolled back at the end
        print(environment(conn))
        club, customer, linked = heaviest_customer(conn)
        staff = f"bench_insight_{uuid.uuid4().hex[:8]}"
        conn.execute("SELECT gdpr.ensure_tenant_role(%s)", (str(club),))
        conn.execute(f'CREATE ROLE "{staff}" NOLOGIN')
        conn.execute(f'GRANT "pgdpr_tenant_{club}", pgdpr_staff TO "{staff}"')
        params = {"club": club, "id": customer}
        report_sql = "SELECT gdpr.insight_report('customer', %(key)s, %(tenant)s)"
        report_params = {"key": str(customer), "tenant": str(club)}
        row_count = conn.execute(report_sql + "->'row_count'", report_params).fetchone()[0]
        print(f"bench: customer {customer} of club {club}: {linked} linked rows by hand, {row_count} in the report; "
              f"{args.runs} runs after {args.warmup} warm-up runs", file=sys.stderr)

        def hand(jsonb: bool) -> float:
            return sum(server_ms(conn, as_jsonb(sql) if jsonb else sql, params) for sql in HAND_WRITTEN.values())

        def as_staff() -> float:
            conn.execute(f'SET ROLE "{staff}"')
            try:
                return server_ms(conn, report_sql, report_params)
            finally:
                conn.execute("RESET ROLE")

        measures = {
            "report (owner)": lambda: server_ms(conn, report_sql, report_params),
            "report (staff, masked)": as_staff,
            "hand-written rows, 1 query/table": lambda: hand(False),
            "hand-written jsonb, 1 query/table": lambda: hand(True),
        }
        samples: dict[str, list[float]] = {name: [] for name in measures}
        for name, measure in measures.items():
            for _ in range(args.warmup):
                measure()
        started = time.perf_counter()
        for _ in range(args.runs):  # interleaved, so drift hits every measure alike
            for name, measure in measures.items():
                samples[name].append(measure())
        wall = time.perf_counter() - started
        after = environment(conn)
        conn.rollback()

    results = {name: stats(values) for name, values in samples.items()}
    rows_median = results["hand-written rows, 1 query/table"]["median"]
    jsonb_median = results["hand-written jsonb, 1 query/table"]["median"]
    minimum = {name: min(values) for name, values in samples.items()}
    table = []
    for name, s in results.items():
        table.append({"measure": name, "median ms": s["median"], "p95 ms": s["p95"], "min ms": minimum[name],
                      "runs": s["n"], "x rows": s["median"] / rows_median, "x jsonb": s["median"] / jsonb_median,
                      "x jsonb (min)": minimum[name] / minimum["hand-written jsonb, 1 query/table"]})
    print_rows(f"Insight report, {args.customers:,} customers in {args.clubs} clubs, customer {customer} "
               f"({row_count} rows), server time per report ({wall:.1f} s in all)", table)
    print(after)
    owner = results["report (owner)"]["median"]
    print(f"\nreport median {owner:.2f} ms (target < 20 ms at 1M customers); "
          f"ratio to hand-written jsonb {owner / jsonb_median:.2f}, to hand-written rows {owner / rows_median:.2f} "
          f"(target <= 1.5)")


if __name__ == "__main__":
    main()
