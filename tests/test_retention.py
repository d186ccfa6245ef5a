"""Bookkeeping (Bogføringsloven § 10) in deferred erasure: the end of the financial year
in the club's time zone whatever the session's TimeZone, financial years that do not
follow the calendar, retained rows kept as booked (the payment reference included)
until the period ends, and due rows erased in foreign-key order."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import errors

from factory import make_club, make_customer


def anonymize(conn, customer, club=None):
    return conn.execute("SELECT gdpr.anonymize('customer', %s, 'kunden bad om det', %s)",
                        (str(customer.id), None if club is None else str(club))).fetchone()[0]


def book(conn, customer, *local_times: str, zone: str = "Europe/Copenhagen") -> list[int]:
    """Replace the customer's account movements by one per local time (in `zone`)."""
    conn.execute("DELETE FROM club.account_movements WHERE customer_id = %s", (customer.id,))
    return [conn.execute("""INSERT INTO club.account_movements (club_id, customer_id, amount, text,
                                payment_reference, booked_at)
                            VALUES (%s, %s, 299, 'Kontingent', %s, timezone(%s, %s::timestamp)) RETURNING id""",
                         (customer.club_id, customer.id, f"MP{i:010d}", zone, t)).fetchone()[0]
            for i, t in enumerate(local_times)]


def pending(conn, customer, zone="Europe/Copenhagen"):
    """(rows, next due, last due) of the customer's retained movements, in local time of `zone`."""
    return conn.execute("""SELECT rows_pending, timezone(%s, next_due_at)::text, timezone(%s, last_due_at)::text
                             FROM gdpr.pending_deferred_erasures('customer', %s)""",
                        (zone, zone, str(customer.id))).fetchone()


def remaining(conn, customer) -> int:
    return conn.execute("SELECT count(*) FROM club.account_movements WHERE customer_id = %s",
                        (customer.id,)).fetchone()[0]


def process(conn, local_time: str, zone: str = "Europe/Copenhagen") -> dict:
    return conn.execute("SELECT gdpr.process_deferred_erasures(timezone(%s, %s::timestamp))",
                        (zone, local_time)).fetchone()[0]


@pytest.fixture
def club(conn):
    make_club(conn, 1)
    make_club(conn, 2, time_zone="America/New_York")
    return conn


@pytest.mark.parametrize("session_zone", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
def test_the_financial_year_ends_in_the_clubs_time_zone(club, session_zone):
    """Booked 2025-01-01 00:30 in Copenhagen (2024-12-31 23:30 UTC): the movement belongs
    to 2025 and is kept until the end of 2030, whatever the session's TimeZone; booked
    2024-12-31 23:30 in Copenhagen (already 2025 in Tokyo) it belongs to 2024."""
    conn = club
    conn.execute(f"SET TimeZone = '{session_zone}'")
    new_year, old_year = make_customer(conn, 1), make_customer(conn, 1)
    book(conn, new_year, "2025-01-01 00:30")
    book(conn, old_year, "2024-12-31 23:30")
    anonymize(conn, new_year)
    anonymize(conn, old_year)
    assert pending(conn, new_year) == (1, "2031-01-01 00:00:00", "2031-01-01 00:00:00")
    assert pending(conn, old_year) == (1, "2030-01-01 00:00:00", "2030-01-01 00:00:00")

    # a day into 2030: only the 2024 movement's period has ended
    assert process(conn, "2030-01-02 00:00")["tables"] == {"club.account_movements": 1}
    assert (remaining(conn, old_year), remaining(conn, new_year)) == (0, 1)
    # the last second of 2030 in Copenhagen (23:59:59 UTC+1): still kept
    assert process(conn, "2030-12-31 23:59:59")["tables"] == {}
    assert remaining(conn, new_year) == 1
    assert process(conn, "2031-01-01 00:00")["tables"] == {"club.account_movements": 1}
    assert remaining(conn, new_year) == 0
    assert conn.execute("SELECT count(*) FROM gdpr.pending_deferred_erasures()").fetchone()[0] == 0


def test_a_club_in_another_time_zone_ends_its_year_there(club):
    conn = club
    conn.execute("SET TimeZone = 'Europe/Copenhagen'")
    subject = make_customer(conn, 2)
    book(conn, subject, "2025-01-01 00:30", zone="America/New_York")   # 06:30 in Copenhagen
    anonymize(conn, subject, club=2)
    assert pending(conn, subject, zone="America/New_York") == (1, "2031-01-01 00:00:00", "2031-01-01 00:00:00")
    assert process(conn, "2030-12-31 23:59", zone="America/New_York")["tables"] == {}
    assert process(conn, "2031-01-01 00:00", zone="America/New_York")["tables"] == {"club.account_movements": 1}


def test_a_financial_year_that_does_not_follow_the_calendar(club):
    """Club 1's financial year runs 1 July - 30 June: a movement of 30 June 2025 belongs to
    the year ending then (kept until 30 June 2030), one of 1 July 2025 to the next."""
    conn = club
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SELECT gdpr.set_financial_year('1', 7)")
    assert conn.execute("SELECT gdpr.tenant_financial_year_start('1'), gdpr.tenant_financial_year_start('2')"
                        ).fetchone() == (7, 1)
    subject, other_club = make_customer(conn, 1), make_customer(conn, 2)
    book(conn, subject, "2025-06-30 23:30", "2025-07-01 00:10", "2026-03-15 12:00")
    book(conn, other_club, "2025-06-30 23:30", zone="America/New_York")
    anonymize(conn, subject)
    anonymize(conn, other_club, club=2)
    assert pending(conn, subject) == (3, "2030-07-01 00:00:00", "2031-07-01 00:00:00")
    # club 2 keeps the calendar year
    assert pending(conn, other_club, zone="America/New_York") == (1, "2031-01-01 00:00:00", "2031-01-01 00:00:00")

    assert process(conn, "2030-06-30 23:59")["tables"] == {}
    assert process(conn, "2030-07-01 00:00")["tables"] == {"club.account_movements": 1}
    assert pending(conn, subject) == (2, "2031-07-01 00:00:00", "2031-07-01 00:00:00")
    assert process(conn, "2030-12-31 23:59", zone="America/New_York")["tables"] == {}
    assert process(conn, "2031-01-01 00:00", zone="America/New_York")["tables"] == {"club.account_movements": 1}
    assert remaining(conn, subject) == 2 and remaining(conn, other_club) == 0
    assert process(conn, "2031-07-01 00:00")["tables"] == {"club.account_movements": 2}
    assert remaining(conn, subject) == 0


def test_only_admins_declare_a_financial_year(club):
    conn = club
    staff = f"staff_1_{uuid.uuid4().hex[:8]}"
    conn.execute("SELECT gdpr.ensure_tenant_role('1')")
    conn.execute(f'CREATE ROLE "{staff}" NOLOGIN')
    conn.execute(f'GRANT pgdpr_tenant_1, pgdpr_staff, pgdpr_erasure TO "{staff}"')
    conn.execute(f'SET ROLE "{staff}"')
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT gdpr.set_financial_year('1', 7)")
    conn.execute("RESET ROLE")
    for tenant, month in (("1", 0), ("1", 13), ("1", None), ("99", 7), ("01", 7)):
        with pytest.raises(errors.InvalidParameterValue):
            conn.execute("SELECT gdpr.set_financial_year(%s, %s)", (tenant, month))
    conn.execute("SET ROLE pgdpr_admin")
    conn.execute("SELECT gdpr.set_financial_year('1', 4)")
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT first_month, set_by FROM gdpr.tenant_financial_year WHERE tenant = '1'"
                        ).fetchone() == (4, "pgdpr_admin")
    assert conn.execute("SELECT tenant, details FROM gdpr.audit_event WHERE action = 'financial_year_set'"
                        ).fetchall() == [("1", {"first_month": 4})]


def test_a_retained_movement_stays_as_booked_with_its_payment_reference(club):
    """Only the columns the catalog declares as not part of the accounting record (the
    text's mentions of the customer) change at erasure; amount, date and the payment
    reference, the trail to the settlement, stay until the period ends."""
    conn = club
    subject = make_customer(conn, 1, first_name="Ingeborg")
    conn.execute("UPDATE club.account_movements SET booked_at = '2024-03-01 10:00+01' WHERE customer_id = %s",
                 (subject.id,))
    before = conn.execute("""SELECT id, amount, booked_at, payment_reference, text FROM club.account_movements
                              WHERE customer_id = %s ORDER BY id""", (subject.id,)).fetchall()
    assert before and all(r[3].startswith("PAY-") and "Ingeborg" in r[4] for r in before)
    assert conn.execute("""SELECT column_name FROM gdpr.catalog_column
                            WHERE table_schema = 'club' AND table_name = 'account_movements'
                              AND NOT part_of_record""").fetchall() == [("text",)]

    summary = anonymize(conn, subject)
    assert summary["tables"]["club.account_movements"]["retained"] == len(before)
    after = conn.execute("""SELECT id, amount, booked_at, payment_reference, text FROM club.account_movements
                             WHERE customer_id = %s ORDER BY id""", (subject.id,)).fetchall()
    assert [r[:4] for r in after] == [r[:4] for r in before]
    assert all(r[4] == "Kontingent [anonymiseret]" for r in after)
    # the reference cannot be changed or put back afterwards either (the update guard)
    with pytest.raises(errors.CheckViolation):
        conn.execute("UPDATE club.account_movements SET payment_reference = NULL WHERE customer_id = %s",
                     (subject.id,))
    assert process(conn, "2029-12-31 23:59")["tables"] == {}
    assert process(conn, "2030-01-01 00:00")["tables"] == {"club.account_movements": len(before)}
    assert remaining(conn, subject) == 0


def test_due_rows_are_erased_in_foreign_key_order(club):
    """Two retained tables, the lines pointing to the invoice: the lines go first (in
    name order the invoice would come first and its delete would fail); a due invoice
    whose line is not due yet waits for it."""
    conn = club
    conn.execute("""
        CREATE TABLE club.invoices (club_id bigint NOT NULL, id bigint GENERATED BY DEFAULT AS IDENTITY,
            customer_id bigint NOT NULL, booked_at timestamptz NOT NULL, PRIMARY KEY (club_id, id),
            FOREIGN KEY (club_id, customer_id) REFERENCES club.customers);
        CREATE TABLE club.ledger_lines (club_id bigint NOT NULL, id bigint GENERATED BY DEFAULT AS IDENTITY,
            customer_id bigint NOT NULL, invoice_id bigint NOT NULL, booked_at timestamptz NOT NULL,
            PRIMARY KEY (club_id, id), FOREIGN KEY (club_id, customer_id) REFERENCES club.customers,
            FOREIGN KEY (club_id, invoice_id) REFERENCES club.invoices);
        ALTER TABLE club.invoices ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
        ALTER TABLE club.ledger_lines ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;""")
    for table in ("invoices", "ledger_lines"):
        conn.execute("""SELECT gdpr.declare_table('club', %s, 'customer', 'direct', 'retain', 'Fakturaer',
                            'Invoices', 'Bogføring', 'GDPR art. 6(1)(c)', '5 år', p_link_column => 'customer_id',
                            p_retain_column => 'booked_at', p_retain_period => '5 years',
                            p_retain_from_year_end => true)""", (table,))
    subject = make_customer(conn, 1)
    book(conn, subject, "2024-05-01 12:00")
    invoices = [conn.execute("""INSERT INTO club.invoices (club_id, customer_id, booked_at)
                                VALUES (1, %s, %s) RETURNING id""", (subject.id, at)).fetchone()[0]
                for at in ("2024-05-01 12:00+02", "2024-06-01 12:00+02")]
    conn.execute("""INSERT INTO club.ledger_lines (club_id, customer_id, invoice_id, booked_at)
                    VALUES (1, %(c)s, %(i1)s, '2024-05-01 12:00+02'), (1, %(c)s, %(i1)s, '2024-05-02 12:00+02'),
                           (1, %(c)s, %(i2)s, '2025-02-01 12:00+01')""",
                 {"c": subject.id, "i1": invoices[0], "i2": invoices[1]})
    anonymize(conn, subject)

    result = process(conn, "2030-01-01 00:00")
    assert result["tables"] == {"club.ledger_lines": 2, "club.invoices": 1, "club.account_movements": 1}
    # the second invoice is due, its line is not: it waits for the line
    assert conn.execute("SELECT id FROM club.invoices").fetchall() == [(invoices[1],)]
    rows = conn.execute("""SELECT table_name, rows_pending, timezone('Europe/Copenhagen', next_due_at)::text
                             FROM gdpr.pending_deferred_erasures('customer', %s) ORDER BY 1""",
                        (str(subject.id),)).fetchall()
    assert rows == [("club.invoices", 1, "2030-01-01 00:00:00"), ("club.ledger_lines", 1, "2031-01-01 00:00:00")]
    assert process(conn, "2031-01-01 00:00")["tables"] == {"club.ledger_lines": 1, "club.invoices": 1}
    assert conn.execute("SELECT count(*) FROM club.invoices").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM gdpr.pending_deferred_erasures()").fetchone()[0] == 0
