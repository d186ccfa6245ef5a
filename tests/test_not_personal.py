"""Marking what is not personal data: `catalog check` can pass on a real schema once
each remaining table or column is declared not personal, with a reason that the
record of processing shows; only admins may declare it."""

from __future__ import annotations

import json

import pytest
from psycopg import errors, sql

FILMS = """
CREATE SCHEMA films;
CREATE TABLE films.customers (id integer PRIMARY KEY, first_name text, last_name text, email text);
CREATE TABLE films.credits (id integer PRIMARY KEY, customer_id integer REFERENCES films.customers,
                            actor_first_name text, actor_last_name text);
CREATE TABLE films.schema_migrations (version text PRIMARY KEY, applied_by text);
"""

CATALOG = """
[subject.filmcustomer]
table = "films.customers"
key = "id"
identifying = ["first_name", "last_name", "email"]

[[table]]
name = "films.customers"
subject = "filmcustomer"
link = "root"
on_erase = "anonymize"
title = { da = "Kunder", en = "Customers" }
purpose = "p"
legal_basis = "b"
retention = "r"
[table.columns]
first_name = { category = "name", erase = "constant:Anonym" }
last_name = { category = "name", erase = "constant:Anonym" }
email = { category = "contact", erase = "null" }
"""

NOT_PERSONAL = """
[not_personal]
"films.credits" = "credits name the actors of a film, public information, not the customer"
"films.schema_migrations.applied_by" = "the migration tool's own deploy user"
"""


def findings(run_cli) -> list[dict]:
    result = run_cli("catalog", "check", "--schema", "films", "--format", "json")
    return json.loads(result.output)["findings"]


def test_declared_not_personal_passes_the_check_and_shows_in_the_record(conn, run_cli, tmp_path):
    conn.execute(FILMS)
    path = tmp_path / "films.toml"
    path.write_text(CATALOG, encoding="utf-8")
    assert run_cli("catalog", "apply", str(path)).exit_code == 0
    before = findings(run_cli)
    assert {f["table"] for f in before} >= {"films.credits"}
    path.write_text(CATALOG + NOT_PERSONAL, encoding="utf-8")
    applied = run_cli("catalog", "apply", str(path))
    assert applied.exit_code == 0 and "not personal films.credits" in applied.output, applied.output
    after = findings(run_cli)
    assert not any(f["table"] in ("films.credits",) for f in after), after
    assert not any(f["column"] == "applied_by" for f in after), after
    record = conn.execute("SELECT gdpr.compliance_record(NULL)").fetchone()[0]
    reasons = {(n["table"], n["column"]): n["reason"] for n in record["not_personal"]}
    assert reasons[("films.credits", None)].startswith("credits name the actors")
    assert ("films.schema_migrations", "applied_by") in reasons


def test_not_personal_needs_a_reason_an_admin_and_no_personal_declaration(conn):
    conn.execute(FILMS)
    with pytest.raises(errors.InvalidParameterValue, match="say why"):
        conn.execute("SELECT gdpr.declare_not_personal('films', 'credits', NULL, ' ')")
    conn.execute("SELECT gdpr.declare_subject('filmcustomer', 'films', 'customers', 'id')")
    conn.execute("SELECT gdpr.declare_table('films', 'customers', 'filmcustomer', 'root', 'anonymize', "
                 "'K', 'C', 'p', 'b', 'r')")
    with pytest.raises(errors.InvalidParameterValue, match="declared as personal data"):
        conn.execute("SELECT gdpr.declare_not_personal('films', 'customers', NULL, 'nope')")
    conn.execute("CREATE ROLE np_staff NOLOGIN IN ROLE pgdpr_staff")
    conn.execute(sql.SQL("SET ROLE np_staff"))
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT gdpr.declare_not_personal('films', 'credits', NULL, 'staff says so')")
    conn.execute("RESET ROLE")
