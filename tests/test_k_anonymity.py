"""Anonymous, not pseudonymous (GDPR Recital 26, WP29 05/2014): after erasure the kept
customer row holds no combination of values that singles the person out. Measured as k:
how many erased customers of the club share the erased customer's kept quasi-identifiers
(gdpr.k_anonymity), on the data `pgdpr demo` installs."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from psycopg import errors

from pgdpr.commands_demo import DEMO_CLUBS, DEMO_CUSTOMERS, DEMO_SEED
from pgdpr.seed import seed
from factory import make_club, make_customer

ANCHOR = date(2026, 6, 15)


@pytest.fixture
def demo(conn):
    """The demo's data (same clubs, customers and seed as `pgdpr demo`), 'today' fixed."""
    report = seed(conn, clubs=DEMO_CLUBS, customers=DEMO_CUSTOMERS, seed=DEMO_SEED, anchor=ANCHOR)
    return conn, report.club_ids


def erase_joined_before(conn, club: int, day: str) -> list[str]:
    """The club erases every customer who joined before `day` (the set form the rules use)."""
    keys = [str(k) for (k,) in conn.execute(
        "SELECT id FROM club.customers WHERE club_id = %s AND member_since < %s ORDER BY id", (club, day))]
    outcomes = conn.execute("SELECT subject_key, outcome FROM gdpr.anonymize_many('customer', %s, %s, 'udmeldt')",
                            (str(club), keys)).fetchall()
    assert {o for _, o in outcomes} == {"anonymized"}
    return keys


def test_erased_demo_customers_cannot_be_singled_out(demo):
    conn, clubs = demo
    # before: the exact dates a kept row used to hold single out every one of them
    exact = conn.execute("""SELECT max(n) FROM (SELECT count(*) AS n FROM club.customers
                             WHERE member_since < '2022-01-01' GROUP BY club_id, member_since, birth_date) g
                         """).fetchone()[0]
    assert exact == 1
    erased = {club: erase_joined_before(conn, club, "2022-01-01") for club in clubs}
    assert all(len(keys) >= 10 for keys in erased.values())

    # the kept rows: join year only, no birth date, nothing else that differs between them
    assert conn.execute("""SELECT count(*) FROM club.customers
                            WHERE anonymized_at IS NOT NULL
                              AND (birth_date IS NOT NULL OR extract(doy FROM member_since) <> 1
                                   OR email IS NOT NULL OR phone IS NOT NULL OR cpr IS NOT NULL
                                   OR member_card IS NOT NULL OR key_fob IS NOT NULL OR address_id IS NOT NULL
                                   OR first_name <> 'Anonymiseret' OR last_name <> 'Anonymiseret')""").fetchone()[0] == 0
    for club, keys in erased.items():
        ks = [k for (k,) in conn.execute("SELECT gdpr.k_anonymity('customer', key, %s) FROM unnest(%s::text[]) key",
                                         (str(club), keys))]
        assert min(ks) >= 5, (club, sorted(ks))
        # k is the group size: the erased customers of the club with the same join year
        by_year = dict(conn.execute("""SELECT extract(year FROM member_since)::int, count(*) FROM club.customers
                                        WHERE club_id = %s AND anonymized_at IS NOT NULL GROUP BY 1""", (club,)))
        assert min(by_year.values()) == min(ks)
        summary = conn.execute("SELECT gdpr.k_anonymity_summary('customer', %s)", (str(club),)).fetchone()[0]
        assert summary == {"kind": "customer", "tenant": str(club), "erased": len(keys), "k_min": min(ks),
                           "target": 5, "below_target": 0, "quasi_identifiers": ["member_since"],
                           "linkable": []}
        record = conn.execute("SELECT gdpr.compliance_record(%s)", (str(club),)).fetchone()[0]
        assert record["figures"]["k_anonymity"]["customer"]["k_min"] == min(ks) >= 5
        assert record["figures"]["k_anonymity"]["staff"]["erased"] == 0
        assert not any("singled out" in w for w in record["warnings"])
    # a customer not erased has no k
    active = conn.execute("SELECT id::text FROM club.customers WHERE anonymized_at IS NULL LIMIT 1").fetchone()[0]
    assert conn.execute("SELECT gdpr.k_anonymity('customer', %s)", (active,)).fetchone()[0] is None
    # every club at once (admins): the smallest group of any club
    every = conn.execute("SELECT gdpr.k_anonymity_summary('customer')").fetchone()[0]
    assert every["erased"] == sum(map(len, erased.values())) and every["k_min"] >= 5


def test_a_lone_erased_customer_is_reported(conn):
    """One erased customer in a club is k = 1: whoever knows who left can tell which kept
    row was theirs. The record of processing says so."""
    make_club(conn, 1)
    make_club(conn, 2)
    first, second = make_customer(conn, 1), make_customer(conn, 1)
    conn.execute("SELECT gdpr.anonymize('customer', %s, 'x')", (str(first.id),))
    assert conn.execute("SELECT gdpr.k_anonymity('customer', %s)", (str(first.id),)).fetchone()[0] == 1
    record = conn.execute("SELECT gdpr.compliance_record('1')").fetchone()[0]
    assert record["figures"]["k_anonymity"]["customer"] == {
        "erased": 1, "k_min": 1, "target": 5, "below_target": 1, "quasi_identifiers": ["member_since"],
        "linkable": []}
    assert any("singled out" in w and "k = 1" in w for w in record["warnings"])
    # the same join year: a group of two
    conn.execute("SELECT gdpr.anonymize('customer', %s, 'x')", (str(second.id),))
    assert conn.execute("SELECT gdpr.k_anonymity('customer', %s)", (str(first.id),)).fetchone()[0] == 2
    # club 2 has no erased customer: nothing to single out
    assert conn.execute("SELECT gdpr.k_anonymity_summary('customer', '2')").fetchone()[0]["k_min"] is None

    # staff ask about their own club only; erasure staff may ask, plain staff may not
    eraser = f"staff_2_{uuid.uuid4().hex[:8]}"
    conn.execute("SELECT gdpr.ensure_tenant_role('2')")
    conn.execute(f'CREATE ROLE "{eraser}" NOLOGIN')
    conn.execute(f'GRANT pgdpr_tenant_2, pgdpr_staff, pgdpr_erasure TO "{eraser}"')
    conn.execute(f'SET ROLE "{eraser}"')
    assert conn.execute("SELECT gdpr.k_anonymity('customer', %s)", (str(first.id),)).fetchone()[0] is None
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT gdpr.k_anonymity_summary('customer', '1')")
    conn.execute("RESET ROLE")


def test_no_kept_column_is_linkable(conn):
    summary = conn.execute("SELECT gdpr.k_anonymity_summary('customer')").fetchone()[0]
    assert summary["linkable"] == []
