"""Re-applying a catalog is a diff, never a reset: holds, rules, the ledger and proofs
survive; what changed is printed ("nothing changed" when nothing did); --dry-run
changes nothing; removing a kind the engine still keeps something about is refused."""

from __future__ import annotations

import pytest
from psycopg import errors

from factory import make_club, make_customer
from test_rules import create_rule


@pytest.fixture
def catalog_file(repo_root):
    return repo_root / "catalogs" / "club.toml"


def kept_state(conn) -> dict[str, list]:
    return {table: conn.execute(f"SELECT * FROM gdpr.{table} ORDER BY 1").fetchall()
            for table in ("legal_hold", "rule", "erasure_ledger", "erasure_proof", "subject_kind",
                          "catalog_table", "catalog_column")}


def test_reapplying_the_same_catalog_keeps_everything_and_says_nothing_changed(conn, run_cli, catalog_file):
    make_club(conn, 1)
    held, erased = make_customer(conn, 1), make_customer(conn, 1)
    conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'debt', 'faktura 17')", (str(held.id),))
    create_rule(conn)
    conn.execute("SELECT gdpr.anonymize('customer', %s, 'anmodning')", (str(erased.id),))
    before = kept_state(conn)
    (events,) = conn.execute("SELECT count(*) FROM gdpr.audit_event").fetchone()
    for _ in range(2):
        result = run_cli("catalog", "apply", str(catalog_file))
        assert result.exit_code == 0, result.output
        assert "nothing changed" in result.output
    assert kept_state(conn) == before
    assert conn.execute("SELECT count(*) FROM gdpr.audit_event").fetchone()[0] == events  # no change, no event


def test_a_changed_file_is_applied_as_a_diff(conn, run_cli, catalog_file, tmp_path):
    make_club(conn, 1)
    held = make_customer(conn, 1)
    conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'debt', 'faktura 17')", (str(held.id),))
    line = 'note = { category = "free_text", erase = "redact", label = { da = "Bemærkning", en = "Note" } }'
    text = catalog_file.read_text(encoding="utf-8")
    assert line in text
    changed = tmp_path / "club.toml"
    changed.write_text(text.replace(line, "").replace('title = { da = "Noter", en = "Notes" }',
                                                      'title = { da = "Notater", en = "Notes" }'), encoding="utf-8")
    dry = run_cli("catalog", "apply", str(changed), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would change: " in dry.output and "2 change(s)" in dry.output
    assert "removed column club.table_bookings.note" in dry.output and "changed table club.notes" in dry.output
    assert conn.execute("SELECT count(*) FROM gdpr.catalog_column WHERE table_name = 'table_bookings'"
                        ).fetchone()[0] == 1  # the dry run changed nothing
    real = run_cli("catalog", "apply", str(changed))
    assert real.exit_code == 0 and "2 change(s)" in real.output
    assert conn.execute("SELECT count(*) FROM gdpr.catalog_column WHERE table_name = 'table_bookings'"
                        ).fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM gdpr.legal_hold").fetchone()[0] == 1


def test_a_kind_with_holds_is_not_forgotten(conn):
    make_club(conn, 1)
    held = make_customer(conn, 1)
    conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'debt', 'faktura 17')", (str(held.id),))
    with pytest.raises(errors.DependentObjectsStillExist, match="1 legal holds"):
        conn.execute("SELECT gdpr.forget_subject('customer')")
    with pytest.raises(errors.ForeignKeyViolation):  # nor by a direct DELETE
        conn.execute("DELETE FROM gdpr.subject_kind WHERE kind = 'customer'")


def test_a_table_is_not_moved_silently_to_a_second_kind(conn):
    with pytest.raises(errors.InvalidParameterValue, match="declared for subject kind customer"):
        conn.execute("""SELECT gdpr.declare_table('club', 'notes', 'staff', 'direct', 'delete', 'N', 'N', 'p', 'b',
                                                  'r', p_link_column => 'staff_id')""")
    assert conn.execute("SELECT kind FROM gdpr.catalog_table WHERE table_name = 'notes'").fetchone()[0] == "customer"
