"""`pgdpr migrate`: yoyo migrations (engine, optionally the club schema), then every
repeatable SQL file (roles, functions, policies) in one transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlencode

import psycopg
from psycopg.conninfo import conninfo_to_dict
from yoyo import get_backend, read_migrations

from pgdpr import __version__
from pgdpr.resources import repeatable_sql_files, resource_dir

SOURCES = {"gdpr": "migrations/gdpr", "club": "migrations/club"}


@dataclass
class MigrateResult:
    applied: list[str] = field(default_factory=list)
    sql_changed: bool = False
    sql_files: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.applied) or self.sql_changed


def yoyo_uri(dsn: str) -> str:
    """A yoyo URI for a libpq DSN: every connection parameter goes in the query string
    (yoyo passes them to psycopg.connect), so socket directories survive."""
    params = {k: v for k, v in conninfo_to_dict(dsn).items() if v is not None}
    return "postgresql+psycopg:///" + ("?" + urlencode(params) if params else "")


def applied_migrations(conn: psycopg.Connection) -> list[tuple[str, object]]:
    exists = conn.execute("SELECT to_regclass('public._yoyo_migration') IS NOT NULL").fetchone()[0]
    if not exists:
        return []
    return conn.execute(
        "SELECT migration_id, applied_at_utc FROM public._yoyo_migration ORDER BY applied_at_utc, migration_id"
    ).fetchall()


def sql_digest() -> str:
    digest = hashlib.sha256()
    for path in repeatable_sql_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def migrate(dsn: str, club_schema: bool = False) -> MigrateResult:
    result = MigrateResult()
    folders = [str(resource_dir("migrations") / "gdpr")]
    if club_schema:
        folders.append(str(resource_dir("migrations") / "club"))
    backend = get_backend(yoyo_uri(dsn))
    try:
        migrations = read_migrations(*folders)
        with backend.lock():
            pending = backend.to_apply(migrations)
            result.applied = [m.id for m in pending]
            backend.apply_migrations(pending)
    finally:
        backend.connection.close()

    files = repeatable_sql_files()
    result.sql_files = len(files)
    digest = sql_digest()
    with psycopg.connect(dsn) as conn:
        # Bodies refer to each other across files; like pg_dump, load them unchecked
        # and let the first call find a mistake (the test suite calls every one).
        conn.execute("SET LOCAL check_function_bodies = off")
        previous = conn.execute("SELECT sql_digest FROM gdpr.install_state").fetchone()
        for path in files:
            conn.execute(path.read_text(encoding="utf-8"))
        conn.execute(
            """INSERT INTO gdpr.install_state (sql_digest, pgdpr_version) VALUES (%s, %s)
               ON CONFLICT (singleton) DO UPDATE SET sql_digest = excluded.sql_digest,
                   pgdpr_version = excluded.pgdpr_version, applied_at = now()
               WHERE gdpr.install_state.sql_digest IS DISTINCT FROM excluded.sql_digest""",
            (digest, __version__),
        )
        result.sql_changed = previous is None or previous[0] != digest
        # The protected views and row policies follow the catalog.
        if conn.execute("SELECT to_regprocedure('gdpr.refresh_views()') IS NOT NULL").fetchone()[0]:
            conn.execute("SELECT gdpr.refresh_views()")
    install_mention_indexes(dsn)
    return result


def install_mention_indexes(dsn: str) -> int:
    """Build the trigram indexes of the erasure's mention search that are missing or
    out of date (gdpr.mention_index_plan), each CREATE INDEX CONCURRENTLY in its own
    statement outside any transaction: at scale a build takes minutes, and neither the
    migrate's locks nor writes to the table wait for it. Returns the statements run."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        if not conn.execute("SELECT to_regprocedure('gdpr.mention_index_plan(boolean)') IS NOT NULL").fetchone()[0]:
            return 0
        statements = [s for (s,) in conn.execute("SELECT statement FROM gdpr.mention_index_plan(true) ORDER BY step")]
        for statement in statements:
            conn.execute(statement)
    return len(statements)
