"""`pgdpr migrate`: migrations once, repeatable SQL every time, idempotent."""

import shutil

import psycopg

from pgdpr import resources
from pgdpr.migrate import migrate


def schema_fingerprint(dsn: str) -> list[tuple]:
    """Every function body and every relation of the installed schemas."""
    with psycopg.connect(dsn) as conn:
        functions = conn.execute(
            """SELECT p.oid::regprocedure::text, md5(p.prosrc), p.proconfig::text, obj_description(p.oid)
                 FROM pg_proc p WHERE p.pronamespace::regnamespace::text IN ('gdpr', 'club') ORDER BY 1""").fetchall()
        relations = conn.execute(
            """SELECT c.oid::regclass::text, c.relkind, c.relacl::text FROM pg_class c
                WHERE c.relnamespace::regnamespace::text IN ('gdpr', 'club', 'club_app') ORDER BY 1""").fetchall()
    return functions + relations


def test_migrate_twice_changes_nothing_and_says_so(empty_db_dsn, run_cli):
    first = run_cli("migrate", "--club-schema", dsn=empty_db_dsn)
    assert first.exit_code == 0, first.output
    assert "applied" in first.output and "0001.catalog" in first.output and "0001.club-schema" in first.output
    before = schema_fingerprint(empty_db_dsn)
    second = run_cli("migrate", "--club-schema", dsn=empty_db_dsn)
    assert second.exit_code == 0, second.output
    assert "no migration pending" in second.output
    assert "nothing changed" in second.output
    assert schema_fingerprint(empty_db_dsn) == before


def test_engine_without_club_schema(empty_db_dsn, run_cli):
    result = run_cli("migrate", dsn=empty_db_dsn)
    assert result.exit_code == 0, result.output
    with psycopg.connect(empty_db_dsn) as conn:
        assert conn.execute("SELECT to_regnamespace('club') IS NULL").fetchone()[0]
        assert conn.execute("SELECT to_regclass('gdpr.catalog_table') IS NOT NULL").fetchone()[0]


def test_edited_function_file_is_reapplied(empty_db_dsn, tmp_path, monkeypatch):
    migrate(empty_db_dsn)
    sql_copy = tmp_path / "sql"
    shutil.copytree(resources.resource_dir("sql"), sql_copy)
    identity = sql_copy / "functions" / "gdpr.identity.sql"
    text = identity.read_text(encoding="utf-8")
    edited = text.replace("'Tenant key of current_user", "'Edited: tenant key of current_user")
    assert edited != text
    identity.write_text(edited, encoding="utf-8")
    original = resources.resource_dir
    monkeypatch.setattr(resources, "resource_dir", lambda name: sql_copy if name == "sql" else original(name))

    result = migrate(empty_db_dsn)

    assert result.applied == [] and result.sql_changed
    with psycopg.connect(empty_db_dsn) as conn:
        comment = conn.execute("SELECT obj_description('gdpr.current_tenant()'::regprocedure)").fetchone()[0]
    assert comment.startswith("Edited: tenant key")


def test_status_reports_server_migrations_and_catalog(run_cli):
    result = run_cli("status", "--format", "json")
    assert result.exit_code == 0, result.output
    import json

    status = json.loads(result.output)
    assert status["server_version"]
    assert {m["id"] for m in status["migrations"]} >= {"0001.catalog", "0001.club-schema"}
    assert isinstance(status["pg_cron"]["available"], bool)
    assert {row["table"] for row in status["catalog"]} >= {"club.customers", "club.log_lines"}


def test_unreachable_server_is_one_clear_line(run_cli):
    result = run_cli("status", dsn="host=/nonexistent-socket-dir port=1 dbname=x connect_timeout=2")
    assert result.exit_code != 0
    assert result.output.startswith("pgdpr: cannot connect")
    assert "Traceback" not in result.output
