"""The erasure ledger and backups (seed S8), for real: pg_dump, anonymise, restore the
dump into a new database, replay the ledger, and check the subject is anonymised again
and nothing else changed."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from factory import make_club, make_customer


def sign(conn, entry: dict) -> dict:
    """An entry as `pgdpr ledger export` signs it, computed independently in Python:
    HMAC-SHA256 keyed with the install secret (read here as the superuser) over the
    fields in a fixed form (the time in UTC with microseconds)."""
    salt = bytes(conn.execute("SELECT salt FROM gdpr.install_secret").fetchone()[0])
    at = datetime.fromisoformat(str(entry["erased_at"])).astimezone(timezone.utc)
    fields = [entry["kind"], entry["tenant"], entry["subject_key"], at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
              entry["actor"], entry["rule_id"], entry["reason_category"]]
    message = "pgdpr-ledger-v1:" + json.dumps(fields, ensure_ascii=False)
    return {**entry, "signature": hmac.new(salt, message.encode("utf-8"), hashlib.sha256).hexdigest()}


def write_ledger(path: Path, entries: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e, default=str) + "\n" for e in entries))
    return path


def bin_dir(conn) -> Path:
    """pg_dump/pg_restore from the same installation as the server."""
    return Path(conn.execute("SELECT setting FROM pg_config WHERE name = 'BINDIR'").fetchone()[0])


def club_tables(conn) -> dict[str, list[str]]:
    """Every row of every club table, as sorted JSON text (anonymized_at left out: it is
    the time of the (re-)erasure; a value erased to a random one (erase = random, a
    fresh UUID at each erasure) reads <random>)."""
    tables = [t for (t,) in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'club' ORDER BY 1")]
    return {t: sorted(RANDOM.sub("<random>", r) for (r,) in conn.execute(
                f"SELECT (to_jsonb(x) - 'anonymized_at')::text FROM club.{t} x"))
            for t in tables}


RANDOM = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


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
    assert set(entries[0]) == {"kind", "tenant", "subject_key", "erased_at", "actor", "rule_id", "reason_category",
                               "signature"}
    assert entries[0]["signature"] == sign(conn, entries[0])["signature"]  # HMAC-SHA256, as Python computes it
    assert oct(ledger_file.stat().st_mode & 0o777) == "0o600"

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
    ledger_file.write_text("\n".join(json.dumps(sign(conn, e)) for e in [
        {"kind": "customer", "tenant": "1", "subject_key": "999999", "erased_at": "2026-01-01T00:00:00+00:00",
         "actor": "x", "rule_id": None, "reason_category": "request"},
        {"kind": "unknown", "tenant": "1", "subject_key": "1", "erased_at": "2026-01-01T00:00:00+00:00",
         "actor": "x", "rule_id": None, "reason_category": "request"},
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


# --- security review (issue 4 hardening) -----------------------------------------------

def anonymized(conn, customer) -> bool:
    return conn.execute("SELECT anonymized_at IS NOT NULL FROM club.customers WHERE id = %s",
                        (customer.id,)).fetchone()[0]


def entry(customer, **kw) -> dict:
    return {"kind": "customer", "tenant": str(customer.club_id), "subject_key": str(customer.id),
            "erased_at": "2026-01-01T00:00:00+00:00", "actor": "postgres", "rule_id": None,
            "reason_category": "request", **kw}


def test_crafted_entries_are_refused(conn, run_cli, tmp_path):
    """F6: unsigned, altered or club-less entries are not applied (a club-less entry
    used to be reported 'reapplied' while nothing was erased)."""
    make_club(conn, 1)
    a, b, c = (make_customer(conn, 1) for _ in range(3))
    altered = sign(conn, entry(a))
    altered["subject_key"] = str(b.id)  # signed for a, replayed for b
    unsigned = entry(c)
    no_club = sign(conn, entry(a, tenant=None))
    bad_club = sign(conn, entry(a, tenant="x"))
    ledger = write_ledger(tmp_path / "l.jsonl", [altered, unsigned, no_club, bad_club])
    result = run_cli("ledger", "replay", str(ledger), "--format", "json")
    assert result.exit_code == 1
    outcomes = {(r["tenant"], r["subject_key"]): r["outcome"] for r in json.loads(result.output)["entries"]}
    assert outcomes == {("1", str(b.id)): "invalid_signature", ("1", str(c.id)): "invalid_signature",
                        (None, str(a.id)): "invalid", ("x", str(a.id)): "invalid"}
    assert not any(anonymized(conn, x) for x in (a, b, c))
    assert conn.execute("SELECT count(*) FROM gdpr.erasure_ledger").fetchone()[0] == 0
    check = run_cli("ledger", "check", str(ledger))
    assert check.exit_code == 1 and "invalid_signature" in check.output
    # the same entries, signed: applied
    good = write_ledger(tmp_path / "good.jsonl", [sign(conn, entry(b)), sign(conn, entry(c))])
    result = run_cli("ledger", "replay", str(good))
    assert result.exit_code == 0 and "2 reapplied" in result.output, result.output
    assert anonymized(conn, b) and anonymized(conn, c) and not anonymized(conn, a)


def test_replay_respects_holds_and_records_the_replaying_admin(conn, run_cli, tmp_path):
    """F6: a hold that was active when the erasure happened stops the replay unless the
    entry is a forced erasure (audited as forced); the actor recorded is the admin who
    replays, the file's actor and rule are kept as data in the audit event."""
    make_club(conn, 1)
    held, forced, free = (make_customer(conn, 1) for _ in range(3))
    for x in (held, forced):
        conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'debt', 'faktura 9')", (str(x.id),))
    after_hold = conn.execute("SELECT clock_timestamp()").fetchone()[0]
    ledger = write_ledger(tmp_path / "l.jsonl", [
        sign(conn, entry(held, erased_at=after_hold.isoformat())),
        sign(conn, entry(forced, erased_at=after_hold.isoformat(), reason_category="forced")),
        # erased before the hold was set: the hold cannot have stopped that erasure
        sign(conn, entry(free, actor="somebody_else", rule_id=7, reason_category="rule")),
    ])
    check = run_cli("ledger", "check", str(ledger), "--format", "json")
    assert check.exit_code == 1
    assert json.loads(check.output)["counts"] == {"held": 1, "missing": 2}
    result = run_cli("ledger", "replay", str(ledger), "--format", "json")
    assert result.exit_code == 1  # something was not applied: look at it
    outcomes = {r["subject_key"]: r["outcome"] for r in json.loads(result.output)["entries"]}
    assert outcomes == {str(held.id): "held", str(forced.id): "reapplied", str(free.id): "reapplied"}
    assert not anonymized(conn, held) and anonymized(conn, forced) and anonymized(conn, free)
    forced_audit = conn.execute("SELECT subject_key, details FROM gdpr.audit_event "
                                "WHERE action = 'anonymize_forced'").fetchall()
    assert [(k, d["ledger_replay"]) for k, d in forced_audit] == [(str(forced.id), True)]
    me = conn.execute("SELECT current_user").fetchone()[0]
    ledger_rows = conn.execute("SELECT subject_key, actor, rule_id, reason_category FROM gdpr.erasure_ledger "
                               "ORDER BY subject_key").fetchall()
    assert sorted(ledger_rows) == sorted([(str(forced.id), me, None, "forced"), (str(free.id), me, 7, "rule")])
    details = conn.execute("SELECT details FROM gdpr.audit_event WHERE action = 'ledger_replay'").fetchone()[0]
    assert {e["subject_key"]: e["actor"] for e in details["entries"]} == {
        str(forced.id): "postgres", str(free.id): "somebody_else"}
    assert details["counts"] == {"held": 1, "reapplied": 2}


def test_replay_does_not_use_a_temporary_table_the_caller_made(conn, run_cli, tmp_path):
    """F4b: the replay used CREATE TEMP TABLE IF NOT EXISTS: an admin could create that
    table first, with a trigger that then ran as pgdpr_owner and read the install
    secret. The replay keeps its working set in variables now."""
    make_club(conn, 1)
    subject = make_customer(conn, 1)
    admin = f"admin_{uuid.uuid4().hex[:8]}"
    conn.execute(f'CREATE ROLE "{admin}" NOLOGIN IN ROLE pgdpr_admin')
    conn.execute(f'SET ROLE "{admin}"')
    conn.execute("""CREATE FUNCTION pg_temp.steal() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        RAISE EXCEPTION 'stolen: %', (SELECT encode(salt, 'hex') FROM gdpr.install_secret);
                    END $$""")
    conn.execute("""CREATE TEMP TABLE gdpr_ledger_replay (kind text, tenant text, subject_key text,
                        erased_at timestamptz, actor name, rule_id bigint, reason_category text, outcome text)""")
    conn.execute("GRANT ALL ON gdpr_ledger_replay TO PUBLIC")  # so that pgdpr_owner may fill it
    conn.execute("""CREATE TRIGGER steal BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON gdpr_ledger_replay
                    FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.steal()""")
    conn.execute("RESET ROLE")
    signed = sign(conn, entry(subject))
    conn.execute(f'SET ROLE "{admin}"')
    rows = conn.execute("SELECT subject_key, outcome FROM gdpr.ledger_replay(%s::jsonb, true)",
                        (json.dumps([signed]),)).fetchall()
    conn.execute("RESET ROLE")
    assert rows == [(str(subject.id), "reapplied")]
    assert anonymized(conn, subject)
