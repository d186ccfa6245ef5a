"""The catalog: declarations checked against pg_catalog, all or nothing, no injection."""

import json

import pytest

from pgdpr.resources import resource_dir

CLUB_CATALOG = resource_dir("catalogs") / "club.toml"


def catalog_state(conn) -> str:
    rows = conn.execute(
        """SELECT json_build_object(
               'subjects', (SELECT json_agg(s ORDER BY kind) FROM gdpr.subject_kind s),
               'tables', (SELECT json_agg(t ORDER BY table_schema, table_name) FROM gdpr.catalog_table t),
               'columns', (SELECT json_agg(c ORDER BY table_schema, table_name, column_name)
                             FROM gdpr.catalog_column c))::text""").fetchone()
    return rows[0]


def test_club_catalog_declares_every_table_and_sensitive_column(conn):
    tables = {r[0] for r in conn.execute("SELECT table_name FROM gdpr.catalog_table WHERE table_schema = 'club'")}
    assert tables == {"customers", "addresses", "custom_field_values", "class_enrollments", "account_movements",
                      "table_bookings", "reservations", "activities", "log_lines", "consents", "notes", "staff",
                      "classes"}
    sensitive = {r[0] for r in conn.execute(
        "SELECT table_name || '.' || column_name FROM gdpr.catalog_column WHERE sensitive")}
    assert sensitive == {"customers.cpr", "customers.bank_reg", "customers.bank_account", "staff.cpr"}
    assert conn.execute("""SELECT sensitive_when FROM gdpr.catalog_column
                            WHERE table_name = 'custom_field_values' AND column_name = 'value'""").fetchone()[0] \
        == "is_sensitive"


def test_reapplying_the_catalog_is_idempotent(conn, run_cli):
    before = catalog_state(conn)
    result = run_cli("catalog", "apply", str(CLUB_CATALOG))
    assert result.exit_code == 0, result.output
    assert catalog_state(conn) == before


def bad_catalog(tmp_path, replace_from: str, replace_to: str):
    text = CLUB_CATALOG.read_text(encoding="utf-8")
    assert replace_from in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(replace_from, replace_to, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("replace_from, replace_to, message", [
    ('city     = { category = "address"', 'town     = { category = "address"',
     "catalog entry column club.addresses.town: column town does not exist in club.addresses"),
    ('name = "club.notes"', 'name = "club.notes\\"; drop table x; --"',
     'catalog entry table club.notes"; drop table x; --: table club."notes""; drop table x; --" does not exist'),
    ('text = { category = "free_text", erase = "redact", label = { da = "Tekst", en = "Text" } }\n\n[[table]]\nname = "club.consents"',
     '"text\\"; drop table x; --" = { category = "free_text", erase = "redact" }\n\n[[table]]\nname = "club.consents"',
     'catalog entry column club.log_lines.text"; drop table x; --: column "text""; drop table x; --" does not exist'),
    ('note = { category = "free_text"', 'note = { category = "gossip"',
     "catalog entry column club.table_bookings.note: unknown category 'gossip'"),
    ('text = { category = "free_text", erase = "redact", label = { da = "Tekst", en = "Text" } }\n\n[[table]]\nname = "club.consents"',
     'text = { category = "free_text", erase = "shred", label = { da = "Tekst", en = "Text" } }\n\n[[table]]\nname = "club.consents"',
     "catalog entry column club.log_lines.text: unknown erase strategy 'shred'"),
    ('link = { direct = "customer_id" }\non_erase = "delete"\ntitle = { da = "Aktiviteter"',
     'link = { direct = "kind" }\non_erase = "delete"\ntitle = { da = "Aktiviteter"',
     "catalog entry table club.activities: link column kind is text, the subject key is bigint"),
    ('name = "club.log_lines"\nsubject = "customer"', 'name = "club.log_lines"\nsubject = "visitor"',
     "catalog entry table club.log_lines: unknown subject kind 'visitor'"),
])
def test_bad_catalog_is_refused_naming_the_entry_and_changes_nothing(conn, run_cli, tmp_path,
                                                                     replace_from, replace_to, message):
    conn.execute("CREATE TABLE x (id int)")
    before = catalog_state(conn)
    result = run_cli("catalog", "apply", str(bad_catalog(tmp_path, replace_from, replace_to)))
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert catalog_state(conn) == before
    assert conn.execute("SELECT to_regclass('club.customers') IS NOT NULL AND to_regclass('public.x') IS NOT NULL"
                        ).fetchone()[0]


def test_via_parent_must_lead_to_the_subject(conn):
    conn.execute("CREATE TABLE club.booking_extras (id bigint PRIMARY KEY, booking_id bigint)")
    with pytest.raises(Exception, match="parent club.classes is not a declared table of subject customer"):
        conn.execute("""SELECT gdpr.declare_table('club', 'booking_extras', 'customer', 'via', 'delete',
                            'x', 'x', 'p', 'b', 'r', p_link_column => 'booking_id',
                            p_parent_schema => 'club', p_parent_table => 'classes')""")


def test_unknown_key_in_file_is_refused(run_cli, tmp_path):
    path = bad_catalog(tmp_path, 'on_erase = "retain"', 'on_erase = "retain"\nkeep_forever = true')
    result = run_cli("catalog", "apply", str(path))
    assert result.exit_code == 1
    assert "catalog entry table club.account_movements: unknown key(s) keep_forever" in result.output


def test_catalog_show_json(run_cli):
    result = run_cli("catalog", "show", "--format", "json")
    assert result.exit_code == 0
    rows = {r["table"]: r for r in json.loads(result.output)}
    assert rows["club.customers"]["sensitive_columns"] == 3
    assert rows["club.account_movements"]["on_erase"] == "retain"


def test_declare_functions_are_not_for_staff(conn):
    import uuid

    role = f"staff_{uuid.uuid4().hex[:8]}"
    conn.execute(f"CREATE ROLE {role} NOLOGIN")
    conn.execute(f"GRANT pgdpr_staff TO {role}")
    conn.execute(f"SET ROLE {role}")
    try:
        with pytest.raises(Exception, match="permission denied"):
            conn.execute("SELECT gdpr.forget_subject('customer')")
        with pytest.raises(Exception, match="permission denied"):
            conn.execute("SELECT * FROM gdpr.catalog_column")
    finally:
        conn.execute("RESET ROLE")
    assert conn.execute("SELECT count(*) FROM gdpr.subject_kind").fetchone()[0] == 2


def test_tenant_table_gives_name_and_time_zone(conn):
    conn.execute("INSERT INTO club.clubs (id, name, time_zone) VALUES (5, 'Ørnhøj Fitness', 'America/Godthab')")
    assert conn.execute("SELECT gdpr.tenant_name('5'), gdpr.tenant_time_zone('5')").fetchone() == \
        ("Ørnhøj Fitness", "America/Godthab")
    assert conn.execute("SELECT gdpr.tenant_time_zone('404')").fetchone()[0] == "Europe/Copenhagen"


def test_tenant_time_zone_column_must_be_text(run_cli, tmp_path):
    path = bad_catalog(tmp_path, 'time_zone = "time_zone"', 'time_zone = "created_at"')
    result = run_cli("catalog", "apply", str(path))
    assert result.exit_code == 1
    assert "catalog entry tenant.time_zone: column created_at must be text" in result.output


def test_engine_tables_cannot_be_declared(conn):
    """The engine runs as the owner of gdpr.*: declaring its install secret as a subject
    table would let the insight report read it."""
    with pytest.raises(Exception, match="schema gdpr belongs to the engine or the system"):
        conn.execute("SELECT gdpr.declare_subject('secret', 'gdpr', 'install_secret', 'singleton')")
    with pytest.raises(Exception, match="subject_kind_not_engine_table"):
        conn.execute("""INSERT INTO gdpr.subject_kind (kind, table_schema, table_name, key_column, area)
                        VALUES ('secret', 'gdpr', 'install_secret', 'singleton', 'x')""")
    with pytest.raises(Exception, match="belongs to the engine or the system"):
        conn.execute("""SELECT gdpr.declare_table('pg_catalog', 'pg_authid', 'customer', 'direct', 'delete',
                            'x', 'x', 'p', 'b', 'r', p_link_column => 'oid')""")
