from factory import make_club, make_customer


def test_factory_fills_every_customer_table(conn):
    """The catalog's subject filter reaches the factory's rows in every customer table."""
    make_club(conn, 1)
    make_club(conn, 2)
    make_customer(conn, 2)  # another club's customer must not be counted
    customer = make_customer(conn, 1, rows_per_table=3)
    tables = conn.execute("SELECT table_schema, table_name FROM gdpr.catalog_table WHERE kind = 'customer'").fetchall()
    assert len(tables) == 11
    for i, (schema, table) in enumerate(tables):
        where = conn.execute("SELECT gdpr.subject_filter(%s, %s, 't', '= $1', '= $2')", (schema, table)).fetchone()[0]
        conn.execute(f'PREPARE count_{i} (bigint, bigint) AS SELECT count(*) FROM "{schema}"."{table}" t WHERE {where}')
        count = conn.execute(f"EXECUTE count_{i} ({int(customer.id)}, {int(customer.club_id)})").fetchone()[0]
        expected = {"customers": 1, "addresses": 1, "custom_field_values": 2, "consents": 2}.get(table, 3)
        assert count == expected, f"{schema}.{table}"


def test_packaging_metadata_has_no_deprecated_license_table():
    """setuptools 77+ deprecates `project.license` as a table: an SPDX string, built with
    a setuptools that knows it."""
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    assert any(r.startswith("setuptools>=77") for r in project["build-system"]["requires"])


def test_catalog_show_lists_columns_and_their_treatment(run_cli):
    import json

    text = run_cli("catalog", "show").output
    assert "cpr" in text and "emptied; sensitive" in text and "year kept only" in text
    assert "deleted with the row" in text  # columns of tables deleted at erasure
    shown = json.loads(run_cli("catalog", "show", "--format", "json").output)
    customers = next(t for t in shown if t["table"] == "club.customers")
    cpr = next(c for c in customers["columns"] if c["column"] == "cpr")
    assert cpr["category"] == "national_id" and cpr["sensitive"] and cpr["erase"] == "null"
    assert len(customers["columns"]) == customers["personal_columns"]
