"""Access log of sensitive values (GDPR Art. 33 evidence) and the report a layperson
can read (Art. 12(1)), with the export limited to what the subject provided and
without third parties' data (Art. 20(1), 20(4))."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from factory import make_club, make_customer


def staff(conn, sfx: str, sensitive: str) -> str:
    group, login = f"acc_grp_{sensitive}_{sfx}", f"acc_{sensitive}_{sfx}"
    conn.execute("SELECT gdpr.create_staff_group('1', %s, 'test')", (group,))
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'view_sensitive', %s)", (group, sensitive))
    conn.execute("SELECT gdpr.add_staff('1', %s, %s::name[])", (login, [group]))
    return login


@pytest.fixture
def club(conn):
    make_club(conn, 1, name="Aarhus Tennisklub", time_zone="America/New_York")
    make_club(conn, 2)
    return make_customer(conn, 1)


def test_report_and_export_record_what_was_shown_in_clear(conn, db_dsn, club):
    customer = club
    sfx = uuid.uuid4().hex[:8]
    allowed, masked = staff(conn, sfx, "allowed"), staff(conn, sfx, "not_allowed")
    for role in (allowed, masked):
        with psycopg.connect(make_conninfo(db_dsn, options=f"-c role={role}"), autocommit=True) as s:
            s.execute("SELECT gdpr.insight_report('customer', %s)", (str(customer.id),))
            s.execute("SELECT count(*) FROM gdpr.insight_rows('customer', %s)", (str(customer.id),))
    events = conn.execute("SELECT actor, action, details FROM gdpr.audit_event "
                          "WHERE action IN ('insight_report', 'export') ORDER BY id").fetchall()
    assert [(a, d["sensitive_access"]) for a, _, d in events] == [
        (allowed, "allowed"), (allowed, "allowed"), (masked, "not_allowed"), (masked, "not_allowed")]
    shown = set(events[0][2]["unmasked"])
    assert {"club.customers.cpr", "club.customers.bank_account", "club.custom_field_values.value"} <= shown
    assert events[2][2]["unmasked"] == [] and events[3][2]["unmasked"] == []
    trail = json.dumps([e[2] for e in events])
    for secret in (customer.cpr, customer.bank_account, customer.secret_field):
        assert secret not in trail
    log = conn.execute("SELECT actor, login, path, columns FROM gdpr.sensitive_disclosures('customer', %s, '1', "
                       "now() - interval '1 month', now() + interval '1 minute')", (str(customer.id),)).fetchall()
    assert [(r[0], r[2]) for r in log] == [(allowed, "report"), (allowed, "export")]
    assert "club.customers.cpr" in log[0][3]
    # staff cannot read the log
    with psycopg.connect(make_conninfo(db_dsn, options=f"-c role={allowed}"), autocommit=True) as s:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            s.execute("SELECT * FROM gdpr.sensitive_disclosures('customer', %s, '1')", (str(customer.id),))


def test_report_reads_for_a_layperson(conn, club):
    customer = club
    report = conn.execute("SELECT gdpr.insight_report('customer', %s, '1')", (str(customer.id),)).fetchone()[0]
    assert report["subject"]["tenant_name"] == "Aarhus Tennisklub"
    assert report["information"]["controller"] == "Aarhus Tennisklub"
    assert report["subject"]["time_zone"] == "America/New_York"
    for section in report["sections"]:
        for column in section["columns"]:
            assert column["label_da"] and column["label_en"], (section["table"], column["name"])
    def values(table, column):
        s = next(x for x in report["sections"] if x["table"] == table)
        i = [c["name"] for c in s["columns"]].index(column)
        return {r[i] for r in s["rows"]}
    assert values("club.class_enrollments", "class_id") == {"Spinning"}
    assert values("club.reservations", "resource_id") == {"Bane 1"}
    assert values("club.custom_field_values", "field_id") == {"Skostørrelse", "Helbredsoplysning"}
    # times in the club's zone (New York: -05:00 or -04:00), not UTC
    booked = values("club.account_movements", "booked_at")
    assert all(v.endswith(("-05:00", "-04:00")) for v in booked), booked
    source = next(s for s in report["sections"] if s["table"] == "club.account_movements")["source"]
    assert "payment provider" in source


def test_cli_report_header_and_rectifications(conn, run_cli, club, tmp_path):
    customer = club
    result = run_cli("report", str(customer.id), "--club", "1", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Aarhus Tennisklub" in result.output and "Club: 1" not in result.output
    assert "Corrections of your data" in result.output and "America/New_York" in result.output
    assert "Class: Spinning" in result.output or "Spinning" in result.output


def test_export_provided_only_and_no_third_party(conn, run_cli, club, tmp_path):
    customer = club
    staff_id = conn.execute("INSERT INTO club.staff (club_id, first_name, last_name) VALUES (1, 'Sofie', 'Staff') "
                            "RETURNING id").fetchone()[0]
    conn.execute("UPDATE club.notes SET staff_id = %s WHERE customer_id = %s", (staff_id, customer.id))
    full = conn.execute("SELECT DISTINCT section, field FROM gdpr.insight_rows('customer', %s)",
                        (str(customer.id),)).fetchall()
    assert ("club.account_movements", "amount") in full
    assert not any(f == "staff_id" for _, f in full)  # Art. 20(4): another person's key left out
    provided = conn.execute("SELECT DISTINCT section FROM gdpr.insight_rows('customer', %s, NULL, 'data export', "
                            "'csv', true)", (str(customer.id),)).fetchall()
    sections = {r[0] for r in provided}
    assert "club.customers" in sections and "club.account_movements" not in sections
    assert "club.log_lines" not in sections and "club.activities" not in sections
    out = tmp_path / "k.csv"
    result = run_cli("export", str(customer.id), "--club", "1", "--provided-only", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "club.customers" in text and "club.account_movements" not in text
    detail = conn.execute("SELECT details FROM gdpr.audit_event WHERE action = 'export' ORDER BY id DESC LIMIT 1"
                          ).fetchone()[0]
    assert detail["provided_only"] is True


def test_a_custom_field_not_marked_sensitive_is_no_disclosure(conn, db_dsn, club):
    """custom_field_values.value is sensitive only on rows whose flag is true: a report
    of a customer whose fields are all plain records no disclosure of it."""
    customer = club
    conn.execute("DELETE FROM club.custom_field_values WHERE customer_id = %s AND is_sensitive", (customer.id,))
    allowed = staff(conn, uuid.uuid4().hex[:8], "allowed")
    with psycopg.connect(make_conninfo(db_dsn, options=f"-c role={allowed}"), autocommit=True) as s:
        s.execute("SELECT gdpr.insight_report('customer', %s)", (str(customer.id),))
    (details,) = conn.execute("SELECT details FROM gdpr.audit_event WHERE action = 'insight_report' "
                              "ORDER BY id DESC LIMIT 1").fetchone()
    assert "club.custom_field_values.value" not in details["unmasked"]
    assert "club.customers.cpr" in details["unmasked"]
