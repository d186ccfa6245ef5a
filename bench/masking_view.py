"""The 'kræver login' masking view beside a plain read of the base table (issue 5).

    python bench/masking_view.py --customers 20000 [--clubs 50] [--seed 1] [--runs 15]

On the benchmark cluster (bench/common.py) with a seeded database it times, server
side (EXPLAIN ANALYZE execution time, bench/common.py server_ms), interleaved runs of
the same full scan that really reads the sensitive columns,

    SELECT count(*), max(length(cpr)), max(length(bank_account)) FROM ...

- owner, base table:   club.customers WHERE club_id = <club> as the database owner
                       (no row security for a superuser, no masking): the baseline;
- allowed, view:       club_app.customers as a staff role of that club whose group has
                       view_sensitive = allowed (row security picks the club's rows);
- not allowed, view:   the same as a staff role with the default not_allowed (every
                       value rendered 'kræver login').

The club is the one with the most customers: a staff role sees exactly its club, so
the baseline reads the same rows. It prints median and p95 of each and the ratio to
the baseline (target: at most 1.15), then the plan of a lookup by customer id through
the view, which must use the index. Roles and groups are created in a transaction
that is rolled back: the shared seeded database is left as it was.
"""

from __future__ import annotations

import argparse
import sys
import uuid

import psycopg
from psycopg import sql

from common import add_profile_argument, environment, print_rows, seeded_dsn, server_ms, stats, use_profile
from pgdpr.migrate import migrate, sql_digest

SCAN = "SELECT count(*), max(length(cpr)), max(length(bank_account)) FROM {}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--clubs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=15)
    add_profile_argument(parser)
    args = parser.parse_args()
    use_profile(args)

    dsn = seeded_dsn(args.customers, args.clubs, args.seed)
    with psycopg.connect(dsn, autocommit=True) as conn:
        installed = conn.execute("SELECT sql_digest FROM gdpr.install_state").fetchone()
        if conn.execute("SELECT to_regclass('club_app.customers') IS NULL").fetchone()[0] \
                or installed is None or installed[0] != sql_digest():
            print("bench: the seeded database's functions and views are older than sql/; running pgdpr migrate",
                  file=sys.stderr)
            try:
                migrate(dsn, club_schema=True)
            except psycopg.Error as exc:
                if conn.execute("SELECT to_regclass('club_app.customers') IS NULL").fetchone()[0]:
                    raise
                print(f"bench: WARNING: pgdpr migrate failed ({exc.diag.message_primary}); measuring the views "
                      f"installed in the database", file=sys.stderr)

    with psycopg.connect(dsn) as conn:  # one transaction, rolled back at the end
        club, customers = conn.execute(
            "SELECT club_id, count(*) FROM club.customers GROUP BY club_id ORDER BY 2 DESC, 1 LIMIT 1").fetchone()
        total = conn.execute("SELECT count(*) FROM club.customers").fetchone()[0]
        sfx = uuid.uuid4().hex[:8]
        roles = {}
        for label, right in (("allowed", "allowed"), ("not allowed", "not_allowed")):
            group = f"bench_grp_{right}_{sfx}"
            conn.execute("SELECT gdpr.create_staff_group(%s, %s, 'benchmark')", (str(club), group))
            conn.execute("SELECT gdpr.set_right(%s, 'customers', 'view_sensitive', %s)", (group, right))
            role = f"bench_staff_{right}_{sfx}"
            conn.execute("SELECT gdpr.add_staff(%s, %s, ARRAY[%s]::name[])", (str(club), role, group))
            roles[label] = role

        base = SCAN.format("club.customers") + f" WHERE club_id = {int(club)}"
        view = SCAN.format("club_app.customers")
        cases = [("owner, base table", None, base), ("allowed, view", roles["allowed"], view),
                 ("not allowed, view", roles["not allowed"], view)]

        def run(role: str | None, query: str) -> float:
            if role:
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
            try:
                return server_ms(conn, query)
            finally:
                conn.execute("RESET ROLE")

        # same answer from every path (the masked one reads 'kræver login' = 12 characters)
        answers = {}
        for label, role, query in cases:
            if role:
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
            answers[label] = conn.execute(query).fetchone()
            conn.execute("RESET ROLE")
        assert answers["allowed, view"] == answers["owner, base table"], answers
        assert answers["not allowed, view"][0] == customers, answers

        print(environment(conn))
        plans = {}
        for label, role, query in cases:
            if role:
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
            plans[label] = [r[0] for r in conn.execute("EXPLAIN (COSTS OFF) " + query)]
            conn.execute("RESET ROLE")
        for label, plan in plans.items():
            print(f"\nplan of the scan, {label}:")
            print("\n".join("  " + line for line in plan))
        parallel = {label: any("Gather" in line for line in plan) for label, plan in plans.items()}

        for _ in range(2):  # warm up
            for _, role, query in cases:
                run(role, query)
        samples: dict[str, list[float]] = {label: [] for label, _, _ in cases}
        for _ in range(args.runs):
            for label, role, query in cases:
                samples[label].append(run(role, query))
        baseline = stats(samples["owner, base table"])["median"]
        rows = []
        for label, _, _ in cases:
            s = stats(samples[label])
            rows.append({"path": label, "median ms": round(s["median"], 2), "p95 ms": round(s["p95"], 2),
                         "ratio": round(s["median"] / baseline, 3)})
        print_rows(f"Full scan reading cpr and bank_account: club {club}, {customers:,} of {total:,} customers, "
                   f"{args.runs} runs each (server time)", rows)
        print(f"load average after: {__import__('common').load_average()}")

        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles["not allowed"])))
        any_id = conn.execute("SELECT id FROM club_app.customers LIMIT 1").fetchone()[0]
        plan = [r[0] for r in conn.execute(
            f"EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) SELECT * FROM club_app.customers WHERE id = {int(any_id)}")]
        conn.execute("RESET ROLE")
        print("\nLookup by customer id through the view (not-allowed staff role):")
        print("\n".join("  " + line for line in plan))
        index_used = any("Index Scan" in line for line in plan) and not any("Seq Scan" in line for line in plan)
        print(f"\nindex used: {'yes' if index_used else 'NO'}")
        print(f"\nparallel plan (Gather): " + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in parallel.items()))
        worst = max(r["ratio"] for r in rows)
        print(f"worst ratio {worst:.3f} (target <= 1.15): {'met' if worst <= 1.15 else 'NOT met'}")
        conn.rollback()
    return 0 if index_used else 1


if __name__ == "__main__":
    sys.exit(main())
