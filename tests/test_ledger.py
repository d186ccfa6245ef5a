"""The erasure ledger and backups (seed S8), for real: pg_dump, anonymise, restore the
dump into a new database, replay the ledger, and check the subject is anonymised again
and nothing else changed."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from factory import make_club, make_customer


def bin_dir(conn) -> Path:
    """pg_dump/pg_restore from the same installation as the server."""
    return Path(conn.execute("SELECT setting FROM pg_config WHERE name = 'BINDIR'").fetchone()[0])


def club_tables(conn) -> dict[str, list[str]]:
    """Every row of every club table, as sorted JSON text (anonymized_at left out: it is
    the time of the (re-)erasure)."""
    tables = [t for (t,) in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'club' ORDER BY 1")]
    return {t: sorted(r for (r,) in conn.execute(f"SELECT (to_jsonb(x) - 'anonymized_at')::text FROM club.{t} x"))
            for t in tables}


@pytest.fixture
def restored_dsn(db_dsn, admin_conn):
    name = f"pgdpr_restored_{uuid.uuid4().hex[:8]}"
    admin_conn.execute(f"CREATE DATABASE {name}")
    params = conninfo_to_dict(db_dsn)
    params["dbname"] = name
    yield make_conninfo(**params)
    admin_conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_dump_anonymise_restore_replay(conn, db_dsn, restored_dsn, run_cli, tmp_path):
    make_club(conn, 1)
    make_club(conn, 2)
    subject = make_customer(conn, 1, first_name="Vibeke")
    kept = make_customer(conn, 1, first_name="Vibeke")
    other_club = make_customer(conn, 2)
    tools = bin_dir(conn)
    dump = tmp_path / "backup.dump"
    subprocess.run([str(tools / "pg_dump"), "-Fc", "-f", str(dump), "-d", db_dsn], check=True)

    result = run_cli("anonymize", str(subject.id), "--yes", "--reason", "kundens ønske")
    assert result.exit_code == 0, result.output
    ledger_file = tmp_path / "ledger.jsonl"
    result = run_cli("ledger", "export", "--output", str(ledger_file))
    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in ledger_file.read_text().splitlines()]
    assert [(e["kind"], e["tenant"], e["subject_key"]) for e in entries] == [("customer", "1", str(subject.id))]
    assert set(entries[0]) == {"kind", "tenant", "subject_key", "erased_at", "actor", "rule_id", "reason_category"}

    subprocess.run([str(tools / "pg_restore"), "--exit-on-error", "-d", restored_dsn, str(dump)], check=True)
    with psycopg.connect(restored_dsn, autocommit=True) as restored:
        assert restored.execute("SELECT first_name FROM club.customers WHERE id = %s",
                                (subject.id,)).fetchone()[0] == "Vibeke"  # the backup still names them

        check = run_cli("ledger", "check", str(ledger_file), dsn=restored_dsn)
        assert check.exit_code == 1 and "missing" in check.output
        assert restored.execute("SELECT anonymized_at FROM club.customers WHERE id = %s",
                                (subject.id,)).fetchone()[0] is None  # check changed nothing

        replay = run_cli("ledger", "replay", str(ledger_file), "--format", "json", dsn=restored_dsn)
        assert replay.exit_code == 0, replay.output
        report = json.loads(replay.output)
        assert report["counts"] == {"reapplied": 1}

        verdict = restored.execute("SELECT gdpr.verify_erased('customer', %s)", (str(subject.id),)).fetchone()[0]
        assert verdict["verdict"] == "erased" and verdict["anonymized"] is True
        # the restored database now equals the original after its erasure, table by table
        with psycopg.connect(db_dsn) as original:
            assert club_tables(restored) == club_tables(original)
            ledger_original = original.execute(
                "SELECT kind, tenant, subject_key, erased_at, actor FROM gdpr.erasure_ledger").fetchall()
        assert restored.execute("SELECT kind, tenant, subject_key, erased_at, actor FROM gdpr.erasure_ledger"
                                ).fetchall() == ledger_original
        assert restored.execute("SELECT first_name FROM club.customers WHERE id = ANY (%s) ORDER BY id",
                                ([kept.id, other_club.id],)).fetchall() == [("Vibeke",), ("Mette",)]

        again = run_cli("ledger", "replay", str(ledger_file), dsn=restored_dsn)
        assert again.exit_code == 0 and "1 already_anonymized" in again.output
        assert run_cli("ledger", "check", str(ledger_file), dsn=restored_dsn).exit_code == 0


def test_ledger_entries_for_subjects_the_backup_lacks(conn, run_cli, tmp_path):
    make_club(conn, 1)
    subject = make_customer(conn, 1)
    ledger_file = tmp_path / "ledger.jsonl"
    ledger_file.write_text("\n".join(json.dumps(e) for e in [
        {"kind": "customer", "tenant": "1", "subject_key": "999999", "erased_at": "2026-01-01T00:00:00+00:00",
         "actor": "x", "rule_id": None, "reason_category": "request"},
        {"kind": "unknown", "tenant": "1", "subject_key": "1", "erased_at": "2026-01-01T00:00:00+00:00"},
    ]) + "\n")
    result = run_cli("ledger", "replay", str(ledger_file))
    assert result.exit_code == 0, result.output
    assert "1 not_found" in result.output and "1 unknown_kind" in result.output
    assert conn.execute("SELECT anonymized_at FROM club.customers WHERE id = %s", (subject.id,)).fetchone()[0] is None
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    result = run_cli("ledger", "check", str(bad))
    assert result.exit_code == 1 and "not a JSON line" in result.output


def test_ledger_since_and_rights(conn, run_cli):
    make_club(conn, 1)
    a = make_customer(conn, 1)
    conn.execute("SELECT gdpr.anonymize('customer', %s, 'x')", (str(a.id),))
    assert run_cli("ledger", "export", "--since", "2999-01-01").output == ""
    assert str(a.id) in run_cli("ledger", "export").output
    role = f"staff_{uuid.uuid4().hex[:8]}"
    conn.execute("SELECT gdpr.ensure_tenant_role('1')")
    conn.execute(f'CREATE ROLE "{role}" NOLOGIN')
    conn.execute(f'GRANT pgdpr_tenant_1, pgdpr_staff, pgdpr_erasure TO "{role}"')
    conn.execute(f'SET ROLE "{role}"')
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM gdpr.ledger_export()")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM gdpr.ledger_replay('[]', true)")
    conn.execute("RESET ROLE")
