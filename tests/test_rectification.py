"""Rectification (GDPR Art. 16): corrections through the views keep a history of which
column changed, when and by whom, with no old value of a sensitive column; the
insight report lists it; erasure deletes it; staff cannot read or forge it."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from factory import make_club, make_customer


def writer(conn, sfx: str, sensitive: str) -> str:
    group, login = f"rect_grp_{sensitive}_{sfx}", f"rect_{sensitive}_{sfx}"
    conn.execute("SELECT gdpr.create_staff_group('1', %s, 'test')", (group,))
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'register_access', 'write')", (group,))
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'view_sensitive', %s)", (group, sensitive))
    conn.execute("SELECT gdpr.add_staff('1', %s, %s::name[])", (login, [group]))
    return login


@pytest.fixture
def setup(conn):
    make_club(conn, 1, name="Aarhus Tennisklub")
    make_club(conn, 2)
    customer = make_customer(conn, 1)
    sfx = uuid.uuid4().hex[:8]
    return customer, writer(conn, sfx, "not_allowed"), writer(conn, sfx, "allowed")


def test_corrections_are_recorded_without_sensitive_old_values(conn, db_dsn, setup):
    customer, clerk, manager = setup
    conn.execute("UPDATE club.table_bookings SET note = %s WHERE customer_id = %s",
                 (f"ring, CPR {customer.cpr}", customer.id))
    conn.execute(f'SET ROLE "{clerk}"')
    conn.execute("UPDATE club_app.customers SET first_name = 'Mettea', phone = '+45 11111111' WHERE id = %s",
                 (customer.id,))
    conn.execute("UPDATE club_app.table_bookings SET note = 'ny note' WHERE customer_id = %s", (customer.id,))
    conn.execute(f'SET ROLE "{manager}"')
    conn.execute("UPDATE club_app.customers SET cpr = '0202021234', bank_account = '5550001' WHERE id = %s",
                 (customer.id,))
    conn.execute("RESET ROLE")
    rows = conn.execute("""SELECT table_name, column_name, actor, login, sensitive, old_value
                             FROM gdpr.rectification WHERE subject_key = %s ORDER BY id""",
                        (str(customer.id),)).fetchall()
    cols = {(r[0], r[1]): r for r in rows}
    assert cols[("customers", "first_name")][2:] == (clerk, conn.execute("SELECT session_user").fetchone()[0],
                                                    False, customer.first_name)
    assert cols[("customers", "phone")][5] == customer.phone
    assert cols[("customers", "cpr")][2] == manager and cols[("customers", "cpr")][4:] == (True, None)
    assert cols[("customers", "bank_account")][4:] == (True, None)
    # free text: kept with CPR-shaped numbers masked (the old note had the CPR in it)
    notes = [r for r in rows if r[1] == "note"]
    assert len(notes) == 2 and all(customer.cpr not in r[5] and "ring, CPR" in r[5] for r in notes)
    everything = json.dumps([list(map(str, r)) for r in conn.execute("SELECT * FROM gdpr.rectification").fetchall()])
    for secret in (customer.cpr, customer.bank_account):
        assert secret not in everything
    # nothing of the old values in the append-only trail
    trail = json.dumps(conn.execute("SELECT json_agg(e) FROM gdpr.audit_event e").fetchone()[0])
    assert customer.first_name not in trail and customer.phone not in trail

    # the report lists the corrections (labels, club-local time), not who made them
    report = conn.execute("SELECT gdpr.insight_report('customer', %s, '1')", (str(customer.id),)).fetchone()[0]
    rect = report["rectifications"]
    assert {(r["table"], r["column"]) for r in rect} >= {("club.customers", "first_name"), ("club.customers", "cpr")}
    first = next(r for r in rect if r["column"] == "first_name")
    assert first["label_en"] == "First name" and first["old_value"] == customer.first_name
    assert next(r for r in rect if r["column"] == "cpr")["old_value"] is None
    assert clerk not in json.dumps(rect) and manager not in json.dumps(rect)


def test_unchanged_or_undeclared_columns_are_not_recorded(conn, setup):
    customer, clerk, _ = setup
    conn.execute(f'SET ROLE "{clerk}"')
    conn.execute("UPDATE club_app.customers SET first_name = first_name WHERE id = %s", (customer.id,))
    conn.execute("UPDATE club_app.reservations SET ends_at = ends_at + interval '1 hour' WHERE customer_id = %s",
                 (customer.id,))
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT count(*) FROM gdpr.rectification").fetchone()[0] == 0


def test_erasure_deletes_the_history(conn, setup):
    customer, clerk, _ = setup
    other = make_customer(conn, 1)
    conn.execute(f'SET ROLE "{clerk}"')
    conn.execute("UPDATE club_app.customers SET first_name = 'X' WHERE id = ANY(%s)", ([customer.id, other.id],))
    conn.execute("RESET ROLE")
    conn.execute("SELECT gdpr.anonymize('customer', %s, 'kunden bad om det')", (str(customer.id),))
    keys = [r[0] for r in conn.execute("SELECT subject_key FROM gdpr.rectification").fetchall()]
    assert keys == [str(other.id)]


def test_staff_cannot_read_or_forge_the_history(conn, db_dsn, setup):
    customer, clerk, manager = setup
    for role in (clerk, manager):
        with psycopg.connect(make_conninfo(db_dsn, options=f"-c role={role}"), autocommit=True) as staff:
            for sql in ("SELECT * FROM gdpr.rectification",
                        "INSERT INTO gdpr.rectification (kind, subject_key, table_schema, table_name, column_name, "
                        "actor, login, sensitive) VALUES ('customer', '1', 'club', 'customers', 'cpr', 'x', 'x', true)",
                        "SELECT gdpr.subject_rectifications('customer', '1', '1', 'allowed')",
                        "SELECT gdpr.record_rectification('club', 'customers', 'customer', '1', '1', "
                        "'{first_name}', '{}', '{}')"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    staff.execute(sql)
