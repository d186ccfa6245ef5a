"""An erasure plan that cannot work is refused when the catalog is applied, naming the
column or the foreign key, not when a person is erased."""

from __future__ import annotations

import pytest
from psycopg import errors

SHOP = """
CREATE SCHEMA plan;
CREATE TABLE plan.addresses (id integer PRIMARY KEY, line text);
CREATE TABLE plan.people (id integer PRIMARY KEY, name text NOT NULL, address_id integer NOT NULL
                          REFERENCES plan.addresses);
CREATE TABLE plan.orders (id integer PRIMARY KEY, person integer REFERENCES plan.people, note text);
CREATE TABLE plan.invoices (id integer PRIMARY KEY, person integer REFERENCES plan.people,
                            order_id integer REFERENCES plan.orders, amount numeric, booked date);
"""

HEAD = """
[subject.person]
table = "plan.people"
key = "id"
identifying = ["name"]
"""

TABLE = """
[[table]]
name = "{name}"
subject = "person"
link = {link}
on_erase = "{on_erase}"
title = {{ da = "T", en = "T" }}
purpose = "p"
legal_basis = "b"
retention = "r"
{extra}
"""


def catalog(tmp_path, *tables: dict) -> str:
    text = HEAD + "".join(TABLE.format(**{"extra": "", **t}) for t in tables)
    path = tmp_path / "plan.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


ROOT = {"name": "plan.people", "link": '"root"', "on_erase": "anonymize",
        "extra": '[table.columns]\nname = { category = "name", erase = "constant:Anonym" }'}


@pytest.fixture
def shop(conn):
    conn.execute(SHOP)


def test_null_into_a_not_null_column_is_refused(shop, run_cli, tmp_path, conn):
    root = dict(ROOT, extra='[table.columns]\nname = { category = "name", erase = "null" }')
    result = run_cli("catalog", "apply", catalog(tmp_path, root))
    assert result.exit_code == 1 and "plan.people.name" in result.output and "NOT NULL" in result.output
    assert conn.execute("SELECT count(*) FROM gdpr.subject_kind WHERE kind = 'person'").fetchone()[0] == 0


def test_deleting_rows_that_kept_rows_reference_is_refused_naming_the_foreign_key(shop, run_cli, tmp_path):
    tables = [ROOT, {"name": "plan.orders", "link": '{ direct = "person" }', "on_erase": "delete"},
              {"name": "plan.invoices", "link": '{ direct = "person" }', "on_erase": "retain",
               "extra": 'retain = { from = "booked", period = "5 years" }'}]
    result = run_cli("catalog", "apply", catalog(tmp_path, *tables))
    assert result.exit_code == 1 and "invoices_order_id_fkey" in result.output, result.output


def test_a_not_null_link_to_an_owned_row_is_refused(shop, run_cli, tmp_path):
    tables = [ROOT, {"name": "plan.addresses", "link": '{ owned_by = "address_id" }', "on_erase": "delete"}]
    result = run_cli("catalog", "apply", catalog(tmp_path, *tables))
    assert result.exit_code == 1 and "plan.people.address_id" in result.output, result.output


def test_a_workable_plan_is_applied_and_the_club_catalog_has_no_problem(shop, run_cli, tmp_path, conn):
    tables = [ROOT, {"name": "plan.orders", "link": '{ direct = "person" }', "on_erase": "anonymize"},
              {"name": "plan.invoices", "link": '{ direct = "person" }', "on_erase": "retain",
               "extra": 'retain = { from = "booked", period = "5 years" }'}]
    result = run_cli("catalog", "apply", catalog(tmp_path, *tables))
    assert result.exit_code == 0, result.output
    assert conn.execute("SELECT * FROM gdpr.erasure_plan_problems()").fetchall() == []
