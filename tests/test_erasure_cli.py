"""`pgdpr anonymize` and `pgdpr hold`: shows what will happen, asks, saves the insight
report first, refuses a held subject unless forced."""

from __future__ import annotations

import json

import pytest

from factory import make_club, make_customer


def anonymized(conn, customer) -> bool:
    return conn.execute("SELECT anonymized_at IS NOT NULL FROM club.customers WHERE id = %s",
                        (customer.id,)).fetchone()[0]


def test_anonymize_asks_and_can_be_declined(conn, run_cli):
    make_club(conn, 1)
    subject = make_customer(conn, 1)
    result = run_cli("anonymize", str(subject.id), input="n\n")
    assert result.exit_code == 1
    assert "club.account_movements" in result.output and "retained" in result.output
    assert "club.notes" in result.output and "2 rows deleted" in result.output
    assert "Anonymise customer" in result.output
    assert not anonymized(conn, subject)

    result = run_cli("anonymize", str(subject.id), "--dry-run")
    assert result.exit_code == 0 and "club.log_lines" in result.output
    assert not anonymized(conn, subject)

    result = run_cli("anonymize", str(subject.id), input="y\n")
    assert result.exit_code == 0, result.output
    assert "proof: erased (0 hits, " in result.output
    assert anonymized(conn, subject)
    again = run_cli("anonymize", str(subject.id), "--yes")
    assert again.exit_code == 0 and "already anonymised" in again.output


def test_save_report_first(conn, run_cli, tmp_path):
    make_club(conn, 1)
    subject = make_customer(conn, 1, first_name="Karoline")
    report = tmp_path / "report.json"
    result = run_cli("anonymize", str(subject.id), "--yes", "--save-report", str(report), "--format", "json")
    assert result.exit_code == 0, result.output
    assert "Karoline" in report.read_text()  # saved before the erasure
    summary = json.loads(result.output[result.output.index("{"):])
    assert summary["status"] == "anonymized" and summary["proof"]["verdict"] == "erased"


def test_hold_commands_and_forced_erasure(conn, run_cli):
    make_club(conn, 1)
    subject = make_customer(conn, 1)
    result = run_cli("hold", "set", str(subject.id), "--type", "doping", "--reason", "sag 17")
    assert result.exit_code == 0, result.output
    hold_id = int(result.output.split("#")[1].split()[0])
    listing = json.loads(run_cli("hold", "list", "--format", "json").output)
    assert [(h["id"], h["hold_type"], h["subject_key"]) for h in listing] == [(hold_id, "doping", str(subject.id))]
    assert f"#{hold_id}" in run_cli("hold", "list").output

    refused = run_cli("anonymize", str(subject.id), "--yes")
    assert refused.exit_code == 1 and f"legal hold #{hold_id} (doping)" in refused.output
    assert "LEGAL HOLD" in refused.output
    assert not anonymized(conn, subject)

    forced = run_cli("anonymize", str(subject.id), "--yes", "--force")
    assert forced.exit_code == 0, forced.output
    assert anonymized(conn, subject)
    assert conn.execute("SELECT count(*) FROM gdpr.audit_event WHERE action = 'anonymize_forced'").fetchone()[0] == 1

    other = make_customer(conn, 1)
    result = run_cli("hold", "set", str(other.id), "--type", "debt", "--reason", "faktura 9",
                     "--until", "2999-01-01")
    other_hold = int(result.output.split("#")[1].split()[0])
    assert run_cli("hold", "clear", str(other_hold)).exit_code == 0
    listing = json.loads(run_cli("hold", "list", "--format", "json").output)
    assert [h["id"] for h in listing] == [hold_id]
    unknown = run_cli("hold", "clear", "424242")
    assert unknown.exit_code == 1 and "legal hold 424242 not found" in unknown.output


def test_save_report_file_handling(conn, run_cli, tmp_path):
    """F7: a missing folder is one line and exit 1 (no traceback), an existing file is
    never overwritten, the new file is readable by its owner only; nothing is erased
    when the report cannot be saved."""
    make_club(conn, 1)
    subject = make_customer(conn, 1, first_name="Karoline")
    missing = tmp_path / "no-such-folder" / "report.html"
    result = run_cli("anonymize", str(subject.id), "--yes", "--save-report", str(missing))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # not an OSError
    assert "does not exist" in result.output
    assert not anonymized(conn, subject)

    existing = tmp_path / "existing.html"
    existing.write_text("someone else's report")
    result = run_cli("anonymize", str(subject.id), "--yes", "--save-report", str(existing))
    assert result.exit_code == 1 and "already exists" in result.output
    assert existing.read_text() == "someone else's report"
    assert not anonymized(conn, subject)

    fresh = tmp_path / "fresh.html"
    result = run_cli("anonymize", str(subject.id), "--yes", "--save-report", str(fresh))
    assert result.exit_code == 0, result.output
    assert "Karoline" in fresh.read_text() and oct(fresh.stat().st_mode & 0o777) == "0o600"
    assert anonymized(conn, subject)


def test_ledger_export_file_handling(conn, run_cli, tmp_path):
    make_club(conn, 1)
    result = run_cli("ledger", "export", "-o", str(tmp_path / "missing" / "ledger.jsonl"))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit) and "does not exist" in result.output
    target = tmp_path / "ledger.jsonl"
    target.write_text("old\n")
    assert run_cli("ledger", "export", "-o", str(target)).exit_code == 0  # the ledger is re-exported regularly
    assert target.read_text() == ""


def test_write_errors_are_one_line(tmp_path):
    from pgdpr.db import PgdprError
    from pgdpr.files import write_private
    with pytest.raises(PgdprError, match="cannot write"):
        write_private(tmp_path, "x", overwrite=True)  # a folder
    with pytest.raises(PgdprError, match="already exists"):
        write_private(tmp_path, "x", overwrite=False)
