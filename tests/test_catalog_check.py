"""`pgdpr catalog check` and `discover` on the club schema: the full catalog passes;
a table or a column left out is named exactly; a declared table or column that was
dropped or renamed is found; sampling stays fast on a large table."""

import json
import time

import pytest

from factory import make_club, make_customer
from pgdpr.resources import resource_dir

CLUB_CATALOG = resource_dir("catalogs") / "club.toml"


def errors(conn):
    return {(f, t, c) for s, f, t, c, *_ in conn.execute("SELECT * FROM gdpr.catalog_check()") if s == "error"}


@pytest.fixture
def club_data(conn):
    make_club(conn, 1)
    make_club(conn, 2)
    make_customer(conn, 1)
    make_customer(conn, 2)
    return conn


def catalog_without(tmp_path, remove: str):
    text = CLUB_CATALOG.read_text(encoding="utf-8")
    assert remove in text
    path = tmp_path / "partial.toml"
    path.write_text(text.replace(remove, "", 1), encoding="utf-8")
    return path


def test_full_club_catalog_passes(club_data, run_cli):
    assert errors(club_data) == set()
    result = run_cli("catalog", "check", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] and report["errors"] == 0
    assert report["findings"] == []
    text = run_cli("catalog", "check")
    assert text.exit_code == 0 and "0 error(s), 0 warning(s)" in text.output


def test_a_table_left_out_is_named_exactly(club_data, run_cli, tmp_path):
    notes_block = CLUB_CATALOG.read_text(encoding="utf-8").split('[[table]]\nname = "club.notes"')[1]
    notes_block = '[[table]]\nname = "club.notes"' + notes_block.split("[[table]]")[0]
    assert run_cli("catalog", "apply", str(catalog_without(tmp_path, notes_block))).exit_code == 0
    assert errors(club_data) == {("undeclared_table", "club.notes", None)}
    result = run_cli("catalog", "check", "--format", "json")
    assert result.exit_code == 1
    finding = next(f for f in json.loads(result.output)["findings"] if f["severity"] == "error")
    assert "club.notes (club_id, customer_id) -> club.customers" in finding["reason"]


@pytest.mark.parametrize("line, expected", [
    ('email        = { category = "contact", erase = "null", label = { da = "E-mail", en = "E-mail" } }\n',
     ("club.customers", "email", "contact", "name")),
    ('cpr        = { category = "national_id", sensitive = true, erase = "null", label = { da = "CPR-nummer", en = "CPR number" } }\n',
     ("club.staff", "cpr", "national_id", "name")),
    # consents.evidence has no telling name: found by its sampled content (e-mail addresses)
    ('evidence = { category = "free_text", erase = "null", label = { da = "Dokumentation", en = "Evidence" } }\n',
     ("club.consents", "evidence", "contact", "sampled")),
])
def test_a_column_left_out_is_named_exactly(club_data, run_cli, tmp_path, line, expected):
    assert run_cli("catalog", "apply", str(catalog_without(tmp_path, line))).exit_code == 0
    table, column, category, why = expected
    assert errors(club_data) == {("undeclared_column", table, column)}
    row = club_data.execute("SELECT category, reason FROM gdpr.catalog_check() WHERE column_name = %s",
                            (column,)).fetchone()
    assert row[0] == category and why in row[1]
    # the reason never quotes a sampled value
    assert "@" not in row[1]
    result = run_cli("catalog", "check")
    assert result.exit_code == 1 and f"{table}.{column}" in result.output


def test_dropped_or_renamed_declarations_are_found(club_data):
    conn = club_data
    conn.execute("ALTER TABLE club.consents RENAME COLUMN evidence TO proof")
    conn.execute("ALTER TABLE club.table_bookings RENAME TO table_reservations")
    found = errors(conn)
    assert ("missing_column", "club.consents", "evidence") in found
    assert ("undeclared_column", "club.consents", "proof") in found  # its content still looks personal
    assert ("missing_table", "club.table_bookings", None) in found
    assert ("undeclared_table", "club.table_reservations", None) in found
    conn.execute("ALTER TABLE club.customers RENAME COLUMN key_fob TO fob")
    found = errors(conn)
    assert ("missing_column", "club.customers", "key_fob") in found  # declared and identifying


def test_a_standalone_table_of_personal_data_is_found(club_data):
    club_data.execute("CREATE TABLE club.newsletter_signups (id bigint PRIMARY KEY, contact text, signed_up date)")
    club_data.execute("INSERT INTO club.newsletter_signups SELECT i, 'person' || i || '@example.dk', current_date "
                      "FROM generate_series(1, 20) i")
    assert errors(club_data) == {("undeclared_column", "club.newsletter_signups", "contact")}


def test_sampling_stays_fast_on_a_large_table(club_data):
    conn = club_data
    conn.execute("""CREATE TABLE club.big_log AS
                    SELECT i AS id, 'besked nummer ' || i || ' fra kunde ' || (i % 977) || '@example.dk' AS message
                      FROM generate_series(1, 300000) i""")
    conn.execute("ANALYZE club.big_log")
    started = time.perf_counter()
    found = conn.execute("SELECT column_name, reason FROM gdpr.catalog_check() WHERE table_name = 'club.big_log'"
                         ).fetchall()
    elapsed = time.perf_counter() - started
    assert [c for c, _ in found] == ["message"]
    sampled = int(found[0][1].split(" of ")[1].split()[0])
    assert sampled <= 200
    assert elapsed < 2.0, elapsed


def test_discover_drafts_the_club_catalog_from_foreign_keys(club_data, run_cli, tmp_path):
    rows = club_data.execute("SELECT table_name, role, link_column, on_erase FROM gdpr.catalog_discover('club')"
                             ).fetchall()
    found = {t: (role, link) for t, role, link, _ in rows}
    declared = {f"club.{t}": (link if link != "root" else "root", col) for t, link, col in club_data.execute(
        "SELECT table_name, link, link_column FROM gdpr.catalog_table WHERE kind = 'customer'")}
    assert found == {t: ("root", None) if link == "root" else (link, col) for t, (link, col) in declared.items()}
    assert dict((t, e) for t, _, _, e in rows)["club.account_movements"] == "retain"
    out = tmp_path / "draft.toml"
    result = run_cli("catalog", "discover", "--schema", "club", "--subject", "club.customers", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert 'link = { owned_by = "address_id", key = "id" }' in text
    assert 'cpr = { category = "national_id", sensitive = true' in text
    assert 'tenant = "club_id"' in text


def test_owned_filter_matches_the_subject_tenant(conn):
    """gdpr.subject_filter for an `owned` table matches the subject row on its tenant
    too: with a per-tenant key, another tenant's subject of the same key must not lend
    its address id (found while putting a second schema through the engine)."""
    conn.execute("""CREATE SCHEMA t2;
        CREATE TABLE t2.addresses (tenant_id int, id int, street text, PRIMARY KEY (tenant_id, id));
        CREATE TABLE t2.customers (tenant_id int, id int, name text, address_id int, PRIMARY KEY (tenant_id, id),
                                   FOREIGN KEY (tenant_id, address_id) REFERENCES t2.addresses);
        INSERT INTO t2.addresses VALUES (1, 7, 'neighbour'), (1, 9, 'mine'), (2, 7, 'other tenant');
        INSERT INTO t2.customers VALUES (1, 5, 'me', 9), (2, 5, 'other tenant', 7), (1, 6, 'neighbour', 7);
        SELECT gdpr.declare_subject('tcust', 't2', 'customers', 'id', 'tenant_id');
        SELECT gdpr.declare_table('t2', 'customers', 'tcust', 'root', 'anonymize', 'k', 'c', 'p', 'l', 'r');
        SELECT gdpr.declare_table('t2', 'addresses', 'tcust', 'owned', 'delete', 'a', 'a', 'p', 'l', 'r',
                                  p_link_column => 'address_id');""")
    where = conn.execute("SELECT gdpr.subject_filter('t2', 'addresses', 'a', '= $1', '= $2')").fetchone()[0]
    conn.execute(f"PREPARE owned_rows (int, int) AS SELECT street FROM t2.addresses a WHERE {where}")
    assert conn.execute("EXECUTE owned_rows (5, 1)").fetchall() == [("mine",)]
