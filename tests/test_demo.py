"""`pgdpr demo seed` and `pgdpr demo`: realistic, deterministic demo data in every
customer-linked table, with the shape the benchmarks rely on."""

from __future__ import annotations

import json
import os
from datetime import date

import psycopg
import pytest

from pgdpr.db import PgdprError
from pgdpr.seed import seed
from conftest import dsn_for
from factory import make_club, make_customer

ANCHOR = date(2026, 6, 15)
CLUB_TABLES = ["clubs", "addresses", "customers", "staff", "custom_fields", "custom_field_values", "classes",
               "class_enrollments", "account_movements", "table_bookings", "resources", "reservations",
               "activities", "log_lines", "consents", "notes"]


@pytest.fixture
def second_db_dsn(server_dsn, admin_conn, template_db):
    name = f"pgdpr_demo_second_{os.getpid()}"
    admin_conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin_conn.execute(f"CREATE DATABASE {name} TEMPLATE {template_db} STRATEGY FILE_COPY")
    yield dsn_for(server_dsn, name)
    admin_conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def seeded(server_dsn, admin_conn, template_db):
    """One seeded database shared by the read-only checks of this module."""
    name = f"pgdpr_demo_seeded_{os.getpid()}"
    admin_conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin_conn.execute(f"CREATE DATABASE {name} TEMPLATE {template_db} STRATEGY FILE_COPY")
    with psycopg.connect(dsn_for(server_dsn, name), autocommit=True) as conn:
        report = seed(conn, clubs=2, customers=400, seed=7, anchor=ANCHOR)
        yield conn, report
    admin_conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def checksum(conn: psycopg.Connection) -> dict[str, str]:
    return {t: conn.execute(f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) "
                            f"FROM club.{t} x").fetchone()[0] for t in CLUB_TABLES}


def test_every_customer_linked_catalog_table_is_filled(seeded):
    conn, report = seeded
    tables = conn.execute("""SELECT table_schema || '.' || table_name FROM gdpr.catalog_table
                             WHERE kind IN ('customer', 'staff') ORDER BY 1""").fetchall()
    assert len(tables) >= 11
    for (table,) in tables:
        count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert count > 0, table
        assert report.rows[table.split(".")[1]] == count
    per_customer = (report.total_rows - report.rows["classes"]) / report.customers
    assert 40 <= per_customer <= 70
    heavy = conn.execute("""SELECT max(n) FROM (SELECT customer_id, count(*) AS n FROM (
                                SELECT customer_id FROM club.activities UNION ALL
                                SELECT customer_id FROM club.account_movements UNION ALL
                                SELECT customer_id FROM club.log_lines UNION ALL
                                SELECT customer_id FROM club.reservations UNION ALL
                                SELECT customer_id FROM club.class_enrollments UNION ALL
                                SELECT customer_id FROM club.table_bookings UNION ALL
                                SELECT customer_id FROM club.notes UNION ALL
                                SELECT customer_id FROM club.consents UNION ALL
                                SELECT customer_id FROM club.custom_field_values) r GROUP BY 1) s""").fetchone()[0]
    assert 900 <= heavy <= 1100, "the report benchmark needs a customer with about 1,000 linked rows"


def test_cpr_numbers_valid_format_some_without_modulus_11(seeded):
    conn, _ = seeded
    total, with_cpr, dates_match, bad_mod11 = conn.execute(
        """SELECT count(*), count(cpr), count(*) FILTER (WHERE club.cpr_birth_date(cpr) = birth_date),
                  count(*) FILTER (WHERE (SELECT sum(substr(cpr, i::int, 1)::int * w)
                                    FROM unnest(ARRAY[4, 3, 2, 7, 6, 5, 4, 3, 2, 1]) WITH ORDINALITY x(w, i)) % 11 <> 0)
             FROM club.customers WHERE club.valid_cpr(cpr)""").fetchone()
    assert total == 400 and with_cpr >= 300
    assert dates_match == with_cpr
    assert 0.05 * with_cpr < bad_mod11 < 0.3 * with_cpr
    assert conn.execute("SELECT count(*) FROM club.staff WHERE NOT club.valid_cpr(cpr)").fetchone()[0] == 0
    bad_bank = conn.execute("""SELECT count(*) FROM club.customers WHERE bank_reg !~ '^[0-9]{4}$'
                               OR bank_account !~ '^[0-9]{1,10}$'""").fetchone()[0]
    assert bad_bank == 0
    assert conn.execute("SELECT count(*) FROM club.customers WHERE bank_reg IS NOT NULL").fetchone()[0] > 100


def test_about_ten_percent_inactive_on_movements_activities_and_reservations(seeded):
    conn, _ = seeded
    eligible, future, negative = conn.execute("""
        SELECT count(*) FILTER (WHERE
                 NOT EXISTS (SELECT FROM club.account_movements m WHERE m.club_id = c.club_id AND m.customer_id = c.id
                               AND m.booked_at > %(cut)s)
             AND NOT EXISTS (SELECT FROM club.activities a WHERE a.club_id = c.club_id AND a.customer_id = c.id
                               AND a.occurred_at > %(cut)s)
             AND NOT EXISTS (SELECT FROM club.reservations r WHERE r.club_id = c.club_id AND r.customer_id = c.id
                               AND r.starts_at > %(cut)s)),
               count(*) FILTER (WHERE EXISTS (SELECT FROM club.table_bookings b WHERE b.club_id = c.club_id
                               AND b.customer_id = c.id AND b.booked_for > %(anchor)s)),
               count(*) FILTER (WHERE (SELECT sum(amount) FROM club.account_movements m
                                        WHERE m.club_id = c.club_id AND m.customer_id = c.id) < 0)
          FROM club.customers c""", {"cut": date(2025, 12, 15), "anchor": ANCHOR}).fetchone()
    assert 0.06 * 400 <= eligible <= 0.15 * 400
    assert future > 0 and negative > 0
    # The others were active recently: within 5 months of the anchor in every case.
    recent = conn.execute("""SELECT count(DISTINCT customer_id) FROM club.activities
                             WHERE occurred_at > %s""", (date(2026, 1, 10),)).fetchone()[0]
    assert recent == 400 - eligible


def test_free_text_mentions_the_customer_and_custom_fields_have_a_sensitive_one(seeded):
    conn, _ = seeded
    mentions = conn.execute("""SELECT count(*) FROM club.log_lines l JOIN club.customers c
                                 ON c.club_id = l.club_id AND c.id = l.customer_id
                               WHERE strpos(l.text, c.first_name) > 0 OR strpos(l.text, c.phone) > 0""").fetchone()[0]
    assert mentions > 0
    notes = conn.execute("""SELECT count(*) FROM club.notes n JOIN club.customers c
                              ON c.club_id = n.club_id AND c.id = n.customer_id
                            WHERE strpos(n.text, c.first_name) > 0 OR strpos(n.text, c.phone) > 0""").fetchone()[0]
    assert notes > 0
    per_club = conn.execute("""SELECT club_id, bool_or(is_sensitive) FROM club.custom_fields GROUP BY 1""").fetchall()
    assert len(per_club) == 2 and all(flag for _, flag in per_club)
    assert conn.execute("SELECT count(*) FROM club.custom_field_values WHERE is_sensitive").fetchone()[0] > 0
    kinds = {k for (k,) in conn.execute("SELECT DISTINCT consent_type FROM club.consents")}
    assert {"terms", "photo_marketing"} <= kinds
    assert conn.execute("SELECT count(*) FROM club.consents WHERE consent_type = 'terms' AND version IS NULL"
                        ).fetchone()[0] == 0
    photos, cards = conn.execute("SELECT count(photo), count(member_card) FROM club.customers").fetchone()
    assert 0 < photos < 400 and cards == 400


def test_deterministic_for_a_seed_and_the_same_with_or_without_bulk(conn, second_db_dsn):
    seed(conn, clubs=2, customers=60, seed=5, anchor=ANCHOR, bulk=False)
    with psycopg.connect(second_db_dsn, autocommit=True) as other:
        indexes_before = other.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'club'").fetchone()[0]
        constraints_before = other.execute("""SELECT array_agg(conname || pg_get_constraintdef(oid) ORDER BY conname)
                                              FROM pg_constraint WHERE connamespace = 'club'::regnamespace""").fetchone()[0]
        seed(other, clubs=2, customers=60, seed=5, anchor=ANCHOR, bulk=True)
        # bulk mode dropped keys and indexes and put every one of them back
        assert other.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'club'").fetchone()[0] == indexes_before
        assert other.execute("""SELECT array_agg(conname || pg_get_constraintdef(oid) ORDER BY conname)
                                FROM pg_constraint WHERE connamespace = 'club'::regnamespace""").fetchone()[0] \
            == constraints_before
        assert checksum(other) == checksum(conn)
        seed(other, clubs=1, customers=10, seed=6, anchor=ANCHOR)
        assert checksum(other)["customers"] != checksum(conn)["customers"]


def test_seeding_adds_clubs_after_existing_ones(conn):
    make_club(conn, 1)
    existing = make_customer(conn, 1)
    report = seed(conn, clubs=2, customers=30, seed=1, anchor=ANCHOR)
    assert report.club_ids == [2, 3]
    again = seed(conn, clubs=1, customers=10, seed=1, anchor=ANCHOR)
    assert again.club_ids == [4]
    ids = conn.execute("SELECT min(id) FROM club.customers WHERE club_id > 1").fetchone()[0]
    assert ids > existing.id
    # sequences were advanced past the explicit ids: the application can add rows
    make_customer(conn, 2)
    assert conn.execute("SELECT count(*) FROM club.customers").fetchone()[0] == 1 + 30 + 10 + 1


def test_seed_refuses_without_the_club_schema(empty_db_dsn):
    with psycopg.connect(empty_db_dsn, autocommit=True) as conn:
        with pytest.raises(PgdprError, match="club schema is not installed"):
            seed(conn, clubs=1, customers=5)


def test_demo_seed_command_reports_rows(run_cli):
    result = run_cli("demo", "seed", "--clubs", "1", "--customers", "20", "--anchor", "2026-06-15",
                     "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["customers"] == 20 and report["total_rows"] > 20 * 40 and report["rows_per_second"] > 0


def test_demo_runs_twice_without_duplicating(run_cli, conn):
    first = run_cli("demo")
    assert first.exit_code == 0, first.output
    assert "Try next" in first.output and "pgdpr catalog show" in first.output
    counts = conn.execute("SELECT (SELECT count(*) FROM club.clubs), (SELECT count(*) FROM club.customers)").fetchone()
    assert counts == (2, 200)
    second = run_cli("demo")
    assert second.exit_code == 0, second.output
    assert "already there" in second.output
    assert conn.execute("SELECT (SELECT count(*) FROM club.clubs), (SELECT count(*) FROM club.customers)"
                        ).fetchone() == counts


def test_demo_creates_staff_and_its_next_steps_run(run_cli, conn, tmp_path, monkeypatch):
    """The demo's staff groups and logins exist (rights show lists them) and every
    command it prints runs against the demo data, with ids that exist."""
    first = run_cli("demo", "--format", "json")
    assert first.exit_code == 0, first.output
    demo = json.loads(first.output)
    assert demo["example_customer"] == 8 and demo["example_club"] == 2 and demo["example_linked_rows"] > 900
    rights = json.loads(run_cli("rights", "show", "--format", "json").output)
    groups = {(r["tenant"], r["group_role"]) for r in rights}
    assert {("1", "reception_1"), ("1", "management_1"), ("2", "reception_2"), ("2", "management_2")} <= groups
    assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname IN ('anna_2', 'lars_2') AND rolcanlogin"
                        ).fetchone()[0] == 2
    monkeypatch.chdir(tmp_path)
    import shlex
    for step in demo["try_next"]:
        args = shlex.split(step["command"])[1:]
        if args[:2] == ["demo", "seed"]:
            continue  # adds a club (tested above)
        result = run_cli(*args)
        assert result.exit_code == 0 and "Traceback" not in result.output, (step["command"], result.output)
    # after the example customer is erased, the next run names another one, truthfully
    assert run_cli("anonymize", "8", "--club", "2", "--yes", "--force").exit_code == 0  # held by a step
    again = json.loads(run_cli("demo", "--format", "json").output)
    other = again["example_customer"]
    assert other != 8 and again["changed"] is False, again
    preview = conn.execute("SELECT gdpr.erasure_preview('customer', %s, %s)",
                           (str(other), str(again["example_club"]))).fetchone()[0]
    assert again["example_linked_rows"] == sum(t["rows"] for t in preview["tables"]) - 1
    text = run_cli("demo").output
    assert f"customer {other} of club {again['example_club']} ({again['example_linked_rows']:,} linked rows)" in text
    assert "nothing changed" in text


def test_demo_twice_keeps_holds_rules_proofs_and_ledger(run_cli, conn):
    """Re-running the demo (which re-applies the catalog) keeps everything made in
    between: legal holds, rules, erasures with their proofs, the ledger, the audit trail,
    and says it changed nothing."""
    assert run_cli("demo").exit_code == 0
    assert run_cli("hold", "set", "9", "--club", "1", "--type", "doping", "--reason", "sag 17").exit_code == 0
    created = run_cli("rules", "create", "--club", "1", "--name", "Inaktive", "--daily", "08:00",
                      "--no-activity-months", "6", "--action", "anonymise", "--disabled")
    assert created.exit_code == 0, created.output
    assert run_cli("anonymize", "10", "--club", "2", "--yes").exit_code == 0
    state = """SELECT (SELECT count(*) FROM gdpr.legal_hold), (SELECT count(*) FROM gdpr.rule),
                      (SELECT count(*) FROM gdpr.ledger_export(NULL)), (SELECT count(*) FROM gdpr.audit_event
                        WHERE action LIKE 'anonymi%%'),
                      (SELECT count(*) FROM club.customers WHERE anonymized_at IS NOT NULL)"""
    before = conn.execute(state).fetchone()
    assert before[0] == 1 and before[2] == 1
    holds = run_cli("hold", "list", "--format", "json").output
    again = run_cli("demo")
    assert again.exit_code == 0, again.output
    assert "nothing changed" in again.output
    assert conn.execute(state).fetchone() == before
    assert run_cli("hold", "list", "--format", "json").output == holds
    verdict = conn.execute("SELECT gdpr.verify_erased('customer', '10', '2')").fetchone()[0]
    assert verdict["verdict"] == "erased"
