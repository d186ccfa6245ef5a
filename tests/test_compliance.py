"""The compliance report (GDPR Art. 30, seed S10): built from the catalog and the live
database. Every declared table and column appears with its purpose and retention; the
security section follows grants, row security, rights and rules as they change; a
club's staff see their own club's figures only."""

import html
import json
import uuid

import psycopg
import pytest

from factory import make_club, make_customer


def record(conn, tenant="1"):
    return conn.execute("SELECT gdpr.compliance_record(%s)", (tenant,)).fetchone()[0]


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def clubs(conn):
    make_club(conn, 1, name="Fitness Øst")
    make_club(conn, 2, name="Padel Vest")
    make_customer(conn, 1)
    make_customer(conn, 1)
    make_customer(conn, 2)
    return conn


def staff_role(conn, club):
    role = unique(f"staff{club}")
    conn.execute(f"CREATE ROLE {role} NOLOGIN")
    conn.execute(f"GRANT pgdpr_tenant_{club}, pgdpr_staff TO {role}")
    return role


def test_report_names_every_declared_table_and_column_with_purpose_and_retention(clubs, run_cli):
    conn = clubs
    r = record(conn)
    by_table = {t["table"]: t for t in r["tables"]}
    declared = conn.execute("SELECT format('%I.%I', table_schema, table_name), purpose, retention, legal_basis "
                            "FROM gdpr.catalog_table").fetchall()
    assert len(declared) == len(by_table) >= 12
    for table, purpose, retention, basis in declared:
        assert by_table[table]["purpose"] == purpose
        assert by_table[table]["retention"] == retention
        assert by_table[table]["legal_basis"] == basis
    columns = conn.execute("SELECT format('%I.%I', table_schema, table_name), column_name, category "
                           "FROM gdpr.catalog_column").fetchall()
    for table, column, category in columns:
        assert {"column": column, "category": category}.items() <= \
            next(c for c in by_table[table]["columns"] if c["column"] == column).items()
    # retention and erasure deadline per category, including the deferred one
    retained = [x for x in r["retention"] if x["table"] == "club.account_movements" and x["column"] == "text"]
    assert retained and "booked_at" in by_table["club.account_movements"]["erasure"]
    assert "5 years" in by_table["club.account_movements"]["erasure"]
    assert {c["category"] for c in r["data_categories"]} >= {"name", "national_id", "bank", "free_text"}
    assert r["controller"]["tenant"] == "1"
    assert r["figures"]["subjects"]["customer"] == 2  # club 1 only

    # the printable HTML and the Markdown name the same tables, columns, purposes and retention
    for fmt in ("html", "md"):
        result = run_cli("compliance-report", "--club", "1", "--format", fmt)
        assert result.exit_code == 0, result.output
        text = html.unescape(result.output)
        for table, purpose, retention, _ in declared:
            assert table in text and purpose in text and retention in text, (fmt, table)
        for table, column, _ in columns:
            assert f"{table}.{column}" in text or column in text
    html_text = run_cli("compliance-report", "--club", "1").output
    assert "@media print" in html_text and html_text.lstrip().startswith("<!DOCTYPE html>")


def test_report_is_audited_and_escapes_catalog_text(clubs, run_cli, tmp_path):
    conn = clubs
    conn.execute("UPDATE gdpr.catalog_table SET purpose = '<script>alert(1)</script> & co' "
                 "WHERE table_name = 'notes'")
    out = tmp_path / "record.html"
    result = run_cli("compliance-report", "--club", "1", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in text
    events = conn.execute("SELECT actor, tenant, subject_key FROM gdpr.audit_event "
                          "WHERE action = 'compliance_report'").fetchall()
    assert events and events[-1][1] == "1" and events[-1][2] is None
    as_json = json.loads(run_cli("compliance-report", "--club", "1", "--format", "json").output)
    assert as_json["tenant"] == "1" and as_json["tables"]


def test_unwritable_output_file_is_one_line_not_a_traceback(clubs, run_cli, tmp_path):
    """-o into a missing folder or under a file: one clear line and exit 1 (compliance-report
    and catalog discover share the report module's writer); the legitimate -o path overwrites."""
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    for args in (("compliance-report", "--club", "1"),
                 ("catalog", "discover", "--schema", "club", "--subject", "club.customers")):
        for target in (tmp_path / "missing" / "out.txt", tmp_path / "a_file" / "out.txt"):
            result = run_cli(*args, "-o", str(target))
            assert result.exit_code == 1, result.output
            assert "Traceback" not in result.output and not isinstance(result.exception, OSError)
            assert "cannot write" in result.output and len(result.output.strip().splitlines()) == 1
        out = tmp_path / "again.txt"
        out.write_text("old", encoding="utf-8")
        result = run_cli(*args, "-o", str(out))
        assert result.exit_code == 0, result.output
        assert out.read_text(encoding="utf-8") != "old"


def test_security_section_follows_grants_and_row_security(clubs):
    conn = clubs
    before = record(conn)["security"]
    notes = next(x for x in before["row_security"] if x["table"] == "club.notes")
    reader = unique("app_reader")
    conn.execute(f"CREATE ROLE {reader} NOLOGIN")
    conn.execute(f"GRANT SELECT, UPDATE ON club.notes TO {reader}")
    conn.execute(f"ALTER TABLE club.notes {'DISABLE' if notes['enabled'] else 'ENABLE'} ROW LEVEL SECURITY")
    conn.execute(f"ALTER TABLE club.notes {'NO FORCE' if notes['forced'] else 'FORCE'} ROW LEVEL SECURITY")
    after = record(conn)["security"]
    notes_after = next(x for x in after["row_security"] if x["table"] == "club.notes")
    assert notes_after["enabled"] is (not notes["enabled"])
    assert notes_after["forced"] is (not notes["forced"])
    grants = next(x for x in after["direct_table_access"] if x["table"] == "club.notes")["grants"]
    assert {"role": reader, "privileges": "SELECT, UPDATE"} in grants
    assert reader not in json.dumps(before)


def test_security_section_follows_rights_and_rules(clubs):
    conn = clubs
    group = unique("frontdesk")
    conn.execute("SELECT gdpr.create_staff_group('1', %s)", (group,))
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'view_sensitive', 'hidden')", (group,))
    groups = record(conn)["security"]["group_rights"]["groups"]
    assert {"group": group, "tenant": "1", "area": "customers", "view_sensitive": "hidden"}.items() <= \
        next(g for g in groups if g["group"] == group).items()
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'view_sensitive', 'allowed')", (group,))
    groups = record(conn)["security"]["group_rights"]["groups"]
    assert next(g for g in groups if g["group"] == group)["view_sensitive"] == "allowed"
    # club 2's groups are not in club 1's record
    other = unique("other")
    conn.execute("SELECT gdpr.create_staff_group('2', %s)", (other,))
    assert other not in json.dumps(record(conn))

    assert record(conn)["security"]["rules"]["rules"] == []
    rule_id = conn.execute("""SELECT gdpr.create_rule('1', 'Anonymiser inaktive kunder', 'daily 08:00', 'once',
                                  '[{"name": "can_be_anonymised"}]', '[{"name": "anonymise"}]')""").fetchone()[0]
    rules = record(conn)["security"]["rules"]["rules"]
    assert [(x["id"], x["description"], x["enabled"], x["erases"], x["last_run"]) for x in rules] == \
        [(rule_id, "Anonymiser inaktive kunder", True, True, None)]
    conn.execute("SELECT gdpr.run_rule(%s)", (rule_id,))
    conn.execute("SELECT gdpr.disable_rule(%s)", (rule_id,))
    rule = record(conn)["security"]["rules"]["rules"][0]
    assert rule["enabled"] is False and rule["last_run"] is not None


def test_figures_anonymised_this_month_and_legal_holds(clubs):
    conn = clubs
    keys = [r[0] for r in conn.execute("SELECT id FROM club.customers WHERE club_id = 1 ORDER BY id")]
    figures = record(conn)["figures"]
    assert figures["subjects"]["customer"] == 2 and figures["anonymised_this_month"]["customer"] == 0
    conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'debt', 'skylder kontingent', NULL, '1')",
                 (str(keys[1]),))
    assert record(conn)["figures"]["open_legal_holds"]["by_type"] == {"debt": 1}
    assert record(conn, "2")["figures"]["open_legal_holds"]["by_type"] == {}
    # the figure reads subject_kind.anonymized_column (gdpr.anonymize sets it; tested in test_webshop)
    conn.execute("UPDATE club.customers SET anonymized_at = now() WHERE club_id = 1 AND id = %s", (keys[0],))
    figures = record(conn)["figures"]
    assert figures["subjects"]["customer"] == 1
    assert figures["anonymised_this_month"]["customer"] == 1
    assert record(conn, "2")["figures"]["anonymised_this_month"]["customer"] == 0


def test_staff_of_club_2_cannot_get_club_1_figures(clubs):
    conn = clubs
    role = staff_role(conn, 2)
    conn.execute(f"SET ROLE {role}")
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            record(conn, "1")
        own = record(conn, None)  # staff act for their own club
        assert own["tenant"] == "2" and own["figures"]["subjects"]["customer"] == 1
        assert "Fitness Øst" not in json.dumps(own, ensure_ascii=False)
    finally:
        conn.execute("RESET ROLE")


def test_role_without_grants_cannot_call_the_functions(clubs):
    conn = clubs
    role = unique("nobody")
    conn.execute(f"CREATE ROLE {role} NOLOGIN")
    conn.execute(f"SET ROLE {role}")
    try:
        for sql in ("SELECT gdpr.compliance_record('1')", "SELECT gdpr.compliance_record()",
                    "SELECT * FROM gdpr.catalog_check()", "SELECT * FROM gdpr.catalog_discover('club')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
    finally:
        conn.execute("RESET ROLE")
    # and a staff member, who may read the record, may not run the catalog check or discover
    staff = staff_role(conn, 1)
    conn.execute(f"SET ROLE {staff}")
    try:
        assert record(conn, "1")["tenant"] == "1"
        for sql in ("SELECT * FROM gdpr.catalog_check()", "SELECT * FROM gdpr.catalog_discover('club')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
    finally:
        conn.execute("RESET ROLE")


def test_record_has_every_art_30_field_filled_and_the_request_figures(clubs, run_cli):
    """Art. 30(1)(a)-(g) each present and non-empty once the club and the vendor have
    recorded their details; missing details are warned about, not left blank silently;
    the request register's figures are in the record; no internal label leaks."""
    conn = clubs
    before = record(conn)
    assert any("data-protection contact" in w for w in before["warnings"])
    assert before["controller"]["contact"] is None
    result = run_cli("controller", "set", "--club", "1", "--name", "Fitness Øst ApS",
                     "--contact", "Strøget 1, 1000 København K, kontakt@fitness-oest.dk",
                     "--dpo-name", "Jens Hansen", "--dpo-contact", "dpo@fitness-oest.dk",
                     "--transfers", "Ingen overførsel til tredjelande / no transfer to third countries",
                     "--measures", "Adgang efter personalegruppe; årlig gennemgang / access per staff group")
    assert result.exit_code == 0, result.output
    assert run_cli("controller", "set", "--processor", "--name", "Bookingsystem A/S",
                   "--contact", "support@vendor.example").exit_code == 0
    customer = conn.execute("SELECT id FROM club.customers WHERE club_id = 1 LIMIT 1").fetchone()[0]
    conn.execute("SELECT gdpr.open_request('customer', %s, 'access', 'mitid', NULL, now() - interval '40 days')",
                 (str(customer),))
    r = record(conn)
    art30 = r["art30"]
    assert set(art30) == {"a_controller", "b_purposes", "c_subject_categories", "c_data_categories",
                          "d_recipients", "e_transfers", "f_retention", "g_measures"}
    for key, value in art30.items():
        assert value, key
    a = art30["a_controller"]
    assert a["controller"]["name"] == "Fitness Øst ApS" and "kontakt@" in a["controller"]["contact"]
    assert a["data_protection_contact"] == {"name": "Jens Hansen", "contact": "dpo@fitness-oest.dk"}
    assert a["processor"]["name"] == "Bookingsystem A/S" and a["processor"]["contact"] == "support@vendor.example"
    assert "tredjelande" in art30["e_transfers"]
    assert art30["g_measures"]["organisational"].startswith("Adgang efter") and art30["g_measures"]["technical"]
    assert set(art30["c_subject_categories"]) == {"customer", "staff"}
    assert r["figures"]["requests"]["open"] == 1 and r["figures"]["requests"]["overdue"] == 1
    assert [w for w in r["warnings"] if "erases" not in w] == ["1 data-subject request(s) are overdue"]
    assert "seed S" not in json.dumps(r)
    for fmt in ("md", "html"):
        text = html.unescape(run_cli("compliance-report", "--club", "1", "--format", fmt).output)
        for needle in ("Fitness Øst ApS", "dpo@fitness-oest.dk", "support@vendor.example", "tredjelande",
                       "Adgang efter personalegruppe", "1 overdue" if fmt == "md" else "1 overskredet",
                       "Databeskyttelsesloven §11", "art. 9(2)(a)"):
            assert needle in text, (fmt, needle)
        assert "seed S" not in text


def test_controller_details_personas(clubs):
    conn = clubs
    reader = staff_role(conn, 1)  # default register access: read
    other = staff_role(conn, 2)
    conn.execute("SELECT gdpr.set_controller_details('1', 'Fitness Øst', 'kontakt@x.dk')")
    for role, tenant in ((reader, "1"), (other, "1"), (reader, "")):
        conn.execute(f"SET ROLE {role}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT gdpr.set_controller_details(%s, 'Hacked', 'evil@x.dk')", (tenant,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM gdpr.controller_record")
        conn.execute("RESET ROLE")
    conn.execute(f"SET ROLE {other}")
    assert record(conn, None)["controller"]["contact"] is None  # club 2 reads its own record only
    conn.execute("RESET ROLE")
    assert record(conn)["controller"]["name"] == "Fitness Øst"
