"""Bad input gets one line and a non-zero exit: never a traceback, never a silent
success. (run_cli does not catch exceptions: a traceback fails the test.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from factory import make_club, make_customer


def one_line_error(result, *words):
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pgdpr: "), result.output
    for word in words:
        assert word in lines[0], (word, lines[0])


@pytest.mark.parametrize("body, words", [
    ('[[table]]\nname = 5\n', ("name", "string", "5")),
    ('[subject.member]\ntable = 5\nkey = "id"\n', ("subject.member", "table", "5")),
    ('[[table]]\nname = "club.notes"\nsubject = "customer"\nlink = { direct = "customer_id" }\n'
     'on_erase = "delete"\ntitle = { da = "Noter", en = "Notes" }\npurpose = "p"\nlegal_basis = "b"\n'
     'retention = "r"\ncolumns = 5\n', ("club.notes", "columns", "5")),
    ('[[table]]\nname = "club.notes"\nsubject = 7\nlink = { direct = "customer_id" }\non_erase = "delete"\n'
     'title = { da = "Noter", en = "Notes" }\npurpose = "p"\nlegal_basis = "b"\nretention = "r"\n', ("subject", "7")),
    ('[subject.member]\ntable = "club.customers"\nkey = "id"\nidentifying = "email"\n', ("identifying",)),
    ('', ("declares nothing",)),
    ('# only a comment\n', ("declares nothing",)),
])
def test_catalog_values_of_the_wrong_type(run_cli, conn, tmp_path, body, words):
    before = conn.execute("SELECT count(*) FROM gdpr.catalog_table").fetchone()[0]
    path = tmp_path / "catalog.toml"
    path.write_text(body)
    one_line_error(run_cli("catalog", "apply", str(path)), *words)
    assert conn.execute("SELECT count(*) FROM gdpr.catalog_table").fetchone()[0] == before


def test_catalog_not_utf8(run_cli, tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[subject.kunde]\ntable = "club.kunder"\nkey = "nr"\n# Kundens påkrævede felter\n'.encode("latin-1"))
    one_line_error(run_cli("catalog", "apply", str(path)), "not UTF-8")


def test_discover_a_system_schema(run_cli):
    one_line_error(run_cli("catalog", "discover", "--schema", "pg_catalog"), "system schema")
    one_line_error(run_cli("catalog", "discover", "--schema", "no_such_schema"), "does not exist")


def test_anonymize_with_stdin_closed(conn, db_dsn):
    make_club(conn, 1)
    subject = make_customer(conn, 1)
    result = subprocess.run([sys.executable, "-m", "pgdpr", "--dsn", db_dsn, "anonymize", str(subject.id)],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "not anonymised" in result.stderr and "--yes" in result.stderr
    closed = subprocess.run([sys.executable, "-c", "import os, sys; os.close(0); sys.stdin = None; "
                             "from pgdpr.main import cli; cli()", "--dsn", db_dsn, "anonymize", str(subject.id)],
                            capture_output=True, text=True, timeout=60)
    assert closed.returncode == 1 and "Traceback" not in closed.stderr, closed.stderr
    assert "not anonymised" in closed.stderr
    assert conn.execute("SELECT anonymized_at FROM club.customers WHERE id = %s", (subject.id,)).fetchone()[0] is None


@pytest.mark.parametrize("args", [
    ["rights", "group", "77", "nowhere_reception"],
    ["rights", "staff", "77", "nowhere_login", "nowhere_reception"],
    ["compliance-report", "--club", "77", "--format", "json"],
    ["rights", "show", "--club", "77"],
    ["rights", "support-grant", "77"],
])
def test_a_club_that_does_not_exist(run_cli, conn, args):
    make_club(conn, 1)
    one_line_error(run_cli(*args), "club 77 does not exist")
    assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'nowhere%'").fetchone()[0] == 0


def test_huge_ids(run_cli):
    one_line_error(run_cli("rules", "show", "99999999999999999999"), "out of range")
    assert "gdpr." not in run_cli("rules", "show", "99999999999999999999").output  # no internal signature
    result = run_cli("hold", "clear", "99999999999999999999")
    assert result.exit_code == 2 and "Traceback" not in result.output and "range" in result.output


def test_ledger_replay_incomplete_line(run_cli, tmp_path):
    path = tmp_path / "ledger.jsonl"
    path.write_text(json.dumps({"kind": "customer", "tenant": "1"}) + "\n")
    one_line_error(run_cli("ledger", "replay", str(path)), "ledger.jsonl:1", "incomplete", "subject_key")
    path.write_text("[1, 2]\n")
    one_line_error(run_cli("ledger", "check", str(path)), "ledger.jsonl:1")


def test_demo_seed_refuses_a_huge_size_without_force(run_cli, conn):
    one_line_error(run_cli("demo", "seed", "--clubs", "1", "--customers", "5000000"), "--force", "200,000")
    one_line_error(run_cli("demo", "seed", "--clubs", "100000", "--customers", "10"), "--force")
    assert conn.execute("SELECT count(*) FROM club.clubs").fetchone()[0] == 0


def test_a_database_without_pgdpr_suggests_migrate(empty_db_dsn, run_cli):
    for args in (["catalog", "show"], ["hold", "list"], ["report", "1"], ["rights", "show"]):
        one_line_error(run_cli(*args, dsn=empty_db_dsn), "pgdpr migrate")


@pytest.mark.parametrize("args", [("worker", "--interval", "0"), ("worker", "--interval", "-5"),
                                  ("worker", "--interval", "nan"), ("worker", "--interval", "inf"),
                                  ("worker", "--batch-size", "0"), ("rules", "run", "1", "--batch-size", "0")])
def test_worker_and_rule_runs_refuse_a_busy_loop_or_empty_batches(run_cli, args):
    result = run_cli(*args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Invalid value" in result.output


def test_rules_create_refuses_a_club_that_does_not_exist(run_cli):
    result = run_cli("rules", "create", "--club", "999", "--name", "x", "--daily", "08:00",
                     "--no-activity-months", "6", "--action", "anonymise")
    assert result.exit_code == 1 and "club '999' does not exist" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("schema", ["pg_catalog", "no_such_schema"])
def test_catalog_check_refuses_a_system_or_missing_schema(run_cli, schema):
    result = run_cli("catalog", "check", "--schema", schema)
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output


def test_demo_seed_counts_the_rows_each_club_adds(run_cli):
    """160,000 customers in 1,000 clubs: each count under its limit, but about 10.5
    million rows with the 2.5 million the clubs add."""
    result = run_cli("demo", "seed", "--clubs", "1000", "--customers", "160000")
    assert result.exit_code == 1 and "--force" in result.output and "rows" in result.output
    assert len(result.output.strip().splitlines()) == 1
