"""Shared helpers of the benchmarks in bench/.

Every script runs from the repository root with the dev venv, e.g.
`python bench/seed.py --customers 20000`; Python puts bench/ on sys.path, so
`from common import bench_cluster, seeded_dsn, ...` works from any sibling script.

- `bench_cluster()`: one throwaway PostgreSQL 15 cluster (Debian binaries), data kept in
  /tmp/pgdpr-bench/ and reused by later runs (state in /tmp/pgdpr-bench/state.json).
  Its settings are a *profile* (PROFILES): `production` (the default: what
  docs/operations.md recommends for a 24 GB server, shared_buffers 8GB, max_wal_size
  16GB) or `floor` (the settings shared/performance-floor.md was measured with,
  shared_buffers 2GB), chosen with PGDPR_BENCH_PROFILE or a script's `--profile`; a
  running cluster with other settings is restarted. `python bench/common.py --stop`
  stops it; `--status` says where it is. pg_stat_statements is preloaded (tracking off
  unless a session sets `pg_stat_statements.track`, as `--profile-statements` does).
- `settings_line(conn)` / `environment(conn)`: the server settings and the load
  average, printed with every result; `wal_counters(conn)`: WAL bytes and full-page
  images so far (pg_current_wal_insert_lsn, pg_stat_wal), for per-customer figures.
- `seeded_dsn(customers, clubs, seed)`: database bench_<customers>_<clubs>_<seed> with
  the engine, the club schema and catalog, seeded by `pgdpr demo seed`'s seeder and
  VACUUM ANALYZEd; built once (under a temporary name, renamed when complete) and
  reused after that (each call re-runs `migrate` and the catalog on it, so it has the
  engine of the current work tree).
- `fresh_copy(dsn)` / `drop_copy(dsn)`: a throwaway clone (CREATE DATABASE ... TEMPLATE)
  for destructive benchmarks.
- `server_ms(conn, sql, params)`: server-side execution time of one statement, from
  EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) "Execution Time": executor time on the
  server, planning excluded, no rows sent to the client. The statement really runs
  (an UPDATE or DELETE changes data). Statements EXPLAIN cannot run (CALL, DO,
  VACUUM, ...) fall back to the client's wall-clock time around execute().
- `stats(samples)` → {median, p95, n}; `print_rows(title, rows)` prints a plain table.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterable, Sequence

import psycopg
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgdpr.catalog import apply as apply_catalog
from pgdpr.cluster import Cluster, debian_bin_dir, free_port
from pgdpr.migrate import migrate
from pgdpr.resources import resource_dir

BENCH_DIR = Path(os.environ.get("PGDPR_BENCH_DIR", "/tmp/pgdpr-bench"))
STATE_FILE = BENCH_DIR / "state.json"
LOCK_FILE = BENCH_DIR / "lock"

# shared/performance-floor.md: the settings the hand-written-SQL floor was measured with.
FLOOR_SETTINGS = {
    "shared_buffers": "2GB",
    "fsync": "on",
    "synchronous_commit": "on",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "work_mem": "64MB",
    "maintenance_work_mem": "1GB",
    "max_parallel_workers_per_gather": "2",
    "wal_compression": "off",
    "max_connections": "100",
    "log_min_messages": "warning",
}

# What docs/operations.md recommends for a server of this machine's kind (24 GB RAM,
# 2 cores, the 1M-customer database of 7.7 GB): a third of the memory as shared
# buffers, so a batch's pages stay in memory; checkpoints far apart (a page written
# twice between two checkpoints pays its full-page image once).
PRODUCTION_SETTINGS = dict(FLOOR_SETTINGS, **{
    "shared_buffers": "8GB",
    "max_wal_size": "16GB",
    "checkpoint_timeout": "30min",
    "checkpoint_completion_target": "0.9",
    "wal_buffers": "64MB",
    "effective_cache_size": "16GB",
})

PROFILES = {"production": PRODUCTION_SETTINGS, "floor": FLOOR_SETTINGS}
SETTINGS = PRODUCTION_SETTINGS  # kept for callers of the old name

# printed with every result (settings_line)
SHOWN_SETTINGS = ("shared_buffers", "max_wal_size", "checkpoint_timeout", "wal_compression", "work_mem",
                  "synchronous_commit", "fsync", "max_parallel_workers_per_gather", "wal_buffers")


def profile_name() -> str:
    name = os.environ.get("PGDPR_BENCH_PROFILE", "production")
    if name not in PROFILES:
        sys.exit(f"bench: unknown settings profile {name!r} (one of {', '.join(PROFILES)})")
    return name


def add_profile_argument(parser) -> None:
    """`--profile production|floor` for a script; it sets PGDPR_BENCH_PROFILE for bench_cluster()."""
    parser.add_argument("--profile", choices=sorted(PROFILES), default=None,
                        help="server settings profile (default: $PGDPR_BENCH_PROFILE or production)")


def use_profile(args) -> None:
    if getattr(args, "profile", None):
        os.environ["PGDPR_BENCH_PROFILE"] = args.profile


@contextlib.contextmanager
def _file_lock():
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _cluster_settings(bin_dir: Path) -> dict[str, str]:
    settings = dict(PROFILES[profile_name()])
    share = subprocess.run([str(bin_dir / "pg_config"), "--sharedir"], capture_output=True, text=True,
                           check=True).stdout.strip()
    libraries = []
    if (Path(share) / "extension" / "pg_cron.control").exists():
        libraries.append("pg_cron")
        settings["cron.database_name"] = "postgres"
    if (Path(share) / "extension" / "pg_stat_statements.control").exists():
        # loaded, but tracking nothing unless a (superuser) session turns it on
        libraries.append("pg_stat_statements")
        settings.update({"pg_stat_statements.track": "none", "pg_stat_statements.max": "10000",
                         "pg_stat_statements.track_utility": "off"})
    if libraries:
        settings["shared_preload_libraries"] = ",".join(libraries)
    return settings


def _settings_match(cluster: Cluster) -> bool:
    """Does the running server have the profile's settings (memory and WAL ones)?"""
    wanted = {k: v for k, v in cluster.settings.items() if k in SHOWN_SETTINGS or k == "shared_preload_libraries"}
    with psycopg.connect(cluster.dsn(), connect_timeout=3) as conn:
        for key, value in wanted.items():
            if conn.execute("SELECT setting, unit FROM pg_settings WHERE name = %s", (key,)).fetchone() is None:
                return False
            shown = conn.execute(pgsql.SQL("SHOW {}").format(pgsql.Identifier(key))).fetchone()[0]
            if shown.replace(" ", "") != value.replace(" ", ""):
                return False
    return True


def _alive(cluster: Cluster) -> bool:
    try:
        with psycopg.connect(cluster.dsn(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _start(cluster: Cluster) -> None:
    options = [f"-p {cluster.port}", f"-k {cluster.socket_dir}", "-c listen_addresses=''"]
    options += [f"-c {key}={value}" for key, value in cluster.settings.items()]
    cluster._run(str(cluster.bin_dir / "pg_ctl"), "-D", str(cluster.data_dir), "-l",
                 str(cluster.base_dir / "log"), "-o", " ".join(options), "-w", "-t", "120", "start")


def _stop(cluster: Cluster) -> None:
    cluster._run(str(cluster.bin_dir / "pg_ctl"), "-D", str(cluster.data_dir), "-m", "fast", "-w", "-t", "300", "stop")


def bench_cluster() -> Cluster:
    """The benchmark cluster, started (or reused) with the settings profile's settings."""
    bin_dir = debian_bin_dir(15)
    if bin_dir is None:
        sys.exit("bench: the Debian PostgreSQL 15 binaries (/usr/lib/postgresql/15/bin) are not installed")
    with _file_lock():
        base_dir = BENCH_DIR / "pg"
        cluster = Cluster(bin_dir, _cluster_settings(bin_dir), base_dir=base_dir)
        cluster.user = "postgres" if os.geteuid() == 0 else None
        if STATE_FILE.exists():
            cluster.port = json.loads(STATE_FILE.read_text())["port"]
            if _alive(cluster):
                if _settings_match(cluster):
                    return cluster
                print(f"bench: restarting the cluster with the {profile_name()} settings", file=sys.stderr)
                _stop(cluster)
                STATE_FILE.unlink(missing_ok=True)
        if not (cluster.data_dir / "PG_VERSION").exists():
            base_dir.mkdir(parents=True, exist_ok=True)
            cluster.socket_dir.mkdir(exist_ok=True)
            if cluster.user:
                subprocess.run(["chown", "-R", f"{cluster.user}:{cluster.user}", str(base_dir)], check=True)
                os.chmod(base_dir, 0o755)
            cluster._run(str(bin_dir / "initdb"), "-D", str(cluster.data_dir), "-U", "postgres",
                         "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8")
        else:
            pid_file = cluster.data_dir / "postmaster.pid"
            if pid_file.exists():  # left by a crash or a reboot: pg_ctl status tells which
                status = subprocess.run(
                    (["runuser", "-u", cluster.user, "--"] if cluster.user else [])
                    + [str(bin_dir / "pg_ctl"), "-D", str(cluster.data_dir), "status"],
                    capture_output=True, text=True)
                if status.returncode == 0:
                    sys.exit(f"bench: a server runs on {cluster.data_dir} but does not answer on the recorded "
                             f"port; stop it with `python bench/common.py --stop`")
        cluster.port = free_port()
        _start(cluster)
        STATE_FILE.write_text(json.dumps({"port": cluster.port, "base_dir": str(base_dir),
                                          "bin_dir": str(bin_dir)}))
        print(f"bench: PostgreSQL 15 running on {cluster.socket_dir} port {cluster.port}, "
              f"data in {cluster.data_dir}, {profile_name()} settings", file=sys.stderr)
        return cluster


def stop_bench_cluster() -> bool:
    """Stop the benchmark cluster (its data stays in /tmp/pgdpr-bench for the next run)."""
    bin_dir = debian_bin_dir(15)
    data_dir = BENCH_DIR / "pg" / "data"
    if bin_dir is None or not (data_dir / "postmaster.pid").exists():
        return False
    with _file_lock():
        command = [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--"] + command
        subprocess.run(command, check=False, capture_output=True)
        STATE_FILE.unlink(missing_ok=True)
    return True


def dsn_for(dsn: str, dbname: str) -> str:
    params = conninfo_to_dict(dsn)
    params["dbname"] = dbname
    return make_conninfo(**params)


def dbname_of(dsn: str) -> str:
    return conninfo_to_dict(dsn)["dbname"]


def _exists(admin: psycopg.Connection, name: str) -> bool:
    return admin.execute("SELECT EXISTS (SELECT FROM pg_database WHERE datname = %s)", (name,)).fetchone()[0]


def seeded_dsn(customers: int, clubs: int = 50, seed: int = 1) -> str:
    """A database with `customers` seeded customers in `clubs` clubs (built once, reused)."""
    from pgdpr.seed import seed as run_seed

    cluster = bench_cluster()
    name = f"bench_{customers}_{clubs}_{seed}"
    with psycopg.connect(cluster.dsn(), autocommit=True) as admin:
        # One builder at a time per name; a half-built database never carries the final name.
        admin.execute("SELECT pg_advisory_lock(hashtext(%s))", (name,))
        try:
            if _exists(admin, name):
                # Bring a database built by an earlier run up to the current engine:
                # new migrations and the repeatable SQL (functions, policies), and the catalog.
                dsn = cluster.dsn(name)
                migrate(dsn, club_schema=True)
                with psycopg.connect(dsn, autocommit=True) as conn:
                    apply_catalog(conn, resource_dir("catalogs") / "club.toml")
                return dsn
            building = f"{name}_building"
            admin.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(building)))
            admin.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(building)))
            dsn = cluster.dsn(building)
            migrate(dsn, club_schema=True)
            with psycopg.connect(dsn, autocommit=True) as conn:
                apply_catalog(conn, resource_dir("catalogs") / "club.toml")
                report = run_seed(conn, clubs=clubs, customers=customers, seed=seed,
                                  progress=lambda msg: print(f"bench: {msg}", file=sys.stderr))
                print(f"bench: seeded {name}: {report.total_rows:,} rows in {report.seconds:.1f} s "
                      f"({report.rows_per_second:,.0f} rows/s)", file=sys.stderr)
                conn.execute("VACUUM (ANALYZE)")
            admin.execute(pgsql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                pgsql.Identifier(building), pgsql.Identifier(name)))
            return cluster.dsn(name)
        finally:
            admin.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))


def fresh_copy(dsn: str) -> str:
    """A new database cloned from `dsn`'s database, for benchmarks that change data.
    FILE_COPY: a checkpoint and a file copy, far less WAL than cloning block by block."""
    source = dbname_of(dsn)
    name = f"{source}_copy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn_for(dsn, "postgres"), autocommit=True) as admin:
        for attempt in range(30):  # the template must have no other session for a moment
            try:
                admin.execute(pgsql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    pgsql.Identifier(name), pgsql.Identifier(source)))
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 29:
                    raise
                time.sleep(2)
    return dsn_for(dsn, name)


def drop_copy(dsn: str) -> None:
    name = dbname_of(dsn)
    if "_copy_" not in name:
        raise ValueError(f"refusing to drop {name}: not made by fresh_copy()")
    with psycopg.connect(dsn_for(dsn, "postgres"), autocommit=True) as admin:
        admin.execute(pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name)))


_EXPLAINABLE = re.compile(r"^\s*(\(?\s*SELECT|INSERT|UPDATE|DELETE|MERGE|VALUES|WITH|TABLE|EXECUTE)\b",
                          re.IGNORECASE)


def server_ms(conn: psycopg.Connection, sql: str, params: Sequence[Any] | dict | None = None) -> float:
    """Server-side execution time of one statement in milliseconds: EXPLAIN (ANALYZE,
    TIMING OFF, FORMAT JSON)'s "Execution Time" (planning excluded, the statement really
    runs, its rows are not sent). Not explainable (CALL, DO, VACUUM...): client wall time."""
    if _EXPLAINABLE.match(sql):
        row = conn.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql, params).fetchone()
        plan = row[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return float(plan[0]["Execution Time"])
    start = time.perf_counter()
    conn.execute(sql, params)
    return (time.perf_counter() - start) * 1000.0


def settings_line(conn: psycopg.Connection) -> str:
    """The server's version and the settings that move the figures, as one line."""
    version = conn.execute("SHOW server_version").fetchone()[0]
    values = []
    for key in SHOWN_SETTINGS:
        values.append(f"{key}={conn.execute(pgsql.SQL('SHOW {}').format(pgsql.Identifier(key))).fetchone()[0]}")
    return f"PostgreSQL {version}, profile {profile_name()}: " + ", ".join(values)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def environment(conn: psycopg.Connection) -> str:
    """Settings and load average, to print with a result (the machine is shared)."""
    return f"{settings_line(conn)}\nload average (1/5/15 min): {load_average()}, {os.cpu_count()} cores"


def wal_counters(conn: psycopg.Connection) -> tuple[str, int]:
    """(WAL insert position, full-page images written so far by the whole server).
    pg_stat_wal counts what backends have flushed to the statistics: the caller's own
    pending counts are flushed first (pg_stat_force_next_flush, then a new statement)."""
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT pg_stat_clear_snapshot()")
    lsn, fpi = conn.execute("SELECT pg_current_wal_insert_lsn()::text, wal_fpi FROM pg_stat_wal").fetchone()
    return lsn, int(fpi)


def wal_since(conn: psycopg.Connection, before: tuple[str, int]) -> tuple[float, int]:
    """(WAL bytes, full-page images) since `before` (wal_counters)."""
    lsn, fpi = wal_counters(conn)
    wal = conn.execute("SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)", (lsn, before[0])).fetchone()[0]
    return float(wal), fpi - before[1]


def stats(samples: Iterable[float]) -> dict[str, float]:
    """Median, 95th percentile (nearest rank) and count of the samples."""
    values = sorted(samples)
    if not values:
        return {"median": float("nan"), "p95": float("nan"), "n": 0}
    rank = max(1, math.ceil(0.95 * len(values)))
    return {"median": statistics.median(values), "p95": values[rank - 1], "n": len(values)}


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def print_rows(title: str, rows: Sequence[dict] | Sequence[Sequence], headers: Sequence[str] | None = None) -> None:
    """Print rows (dicts, or sequences with `headers`) as a plain aligned table."""
    rows = list(rows)
    if rows and isinstance(rows[0], dict):
        headers = list(headers or rows[0].keys())
        body = [[_cell(row.get(h)) for h in headers] for row in rows]
    else:
        headers = list(headers or [f"col{i + 1}" for i in range(len(rows[0]) if rows else 0)])
        body = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    numeric = [all(re.fullmatch(r"-?[\d,.]+|nan|", r[i]) for r in body) and body != [] for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)).rstrip()

    print(f"\n{title}")
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in body:
        print(line(row))
    sys.stdout.flush()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="The benchmark cluster in /tmp/pgdpr-bench")
    parser.add_argument("--stop", action="store_true", help="stop the benchmark cluster (data is kept)")
    parser.add_argument("--status", action="store_true", help="start or reuse it and print its DSN")
    add_profile_argument(parser)
    args = parser.parse_args()
    use_profile(args)
    if args.stop:
        print("stopped" if stop_bench_cluster() else "not running")
    else:
        cluster = bench_cluster()
        print(cluster.dsn())
        with psycopg.connect(cluster.dsn()) as conn:
            print(environment(conn))
