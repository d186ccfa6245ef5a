"""The Data Insight Report and the portable export (issue 3; seed S1, S2, S7; GDPR
Art. 15 and 20), by persona: the database owner, staff of the club without the right
to sensitive data, staff of another club, a role with no grants."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import uuid
import zipfile
from datetime import datetime

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from factory import make_club, make_customer

SECTIONS_WITH_ROWS = 11  # every customer table of catalogs/club.toml gets rows from the factory


def staff_role(conn, club_id: int) -> str:
    """A staff role of one club, without the right to sensitive data (the default)."""
    role = f"insight_staff_{club_id}_{uuid.uuid4().hex[:8]}"
    conn.execute("SELECT gdpr.ensure_tenant_role(%s)", (str(club_id),))
    conn.execute(f'CREATE ROLE "{role}" NOLOGIN')
    conn.execute(f'GRANT pgdpr_tenant_{club_id}, pgdpr_staff TO "{role}"')
    return role


def as_role(dsn: str, role: str) -> str:
    """A DSN whose session acts as `role` (SET ROLE at connect: gdpr.caller() is the role)."""
    return make_conninfo(dsn, options=f"-c role={role}")


def direct_counts(conn, customer) -> dict[str, int]:
    """Rows per declared customer table, counted by hand through the catalog's filter."""
    counts = {}
    tables = conn.execute("SELECT table_schema, table_name FROM gdpr.catalog_table WHERE kind = 'customer'").fetchall()
    for schema, table in tables:
        where = conn.execute("SELECT gdpr.subject_filter(%s, %s, 't', %s, %s)",
                             (schema, table, f"= {int(customer.id)}", f"= {int(customer.club_id)}")).fetchone()[0]
        counts[f"{schema}.{table}"] = conn.execute(
            f'SELECT count(*) FROM "{schema}"."{table}" t WHERE {where}').fetchone()[0]
    return counts


def secrets_of(customer) -> list[str]:
    """Values that a caller without the right must never read (CPR, bank account, sensitive field)."""
    return [customer.cpr, f"{customer.cpr[:6]}-{customer.cpr[6:]}", customer.bank_account, customer.secret_field]


def personal_values(customer) -> list[str]:
    return [customer.first_name, customer.last_name, customer.email, customer.phone, customer.customer_no,
            *secrets_of(customer)]


@pytest.fixture
def club_data(conn):
    make_club(conn, 1)
    make_club(conn, 2)
    other = make_customer(conn, 2, first_name="Ole")
    customer = make_customer(conn, 1, rows_per_table=3)
    return customer, other


def records(report: dict, table: str) -> list[dict]:
    """A section's rows (arrays in column order) as dicts."""
    section = next(s for s in report["sections"] if s["table"] == table)
    names = [c["name"] for c in section["columns"]]
    return [dict(zip(names, row)) for row in section["rows"]]


def audit_events(conn) -> list[dict]:
    return [r[0] for r in conn.execute("SELECT to_jsonb(e) FROM gdpr.audit_event e ORDER BY id").fetchall()]


# --- the database owner --------------------------------------------------------------


def test_report_has_every_section_with_direct_counts(conn, club_data):
    customer, other = club_data
    report = conn.execute("SELECT gdpr.insight_report('customer', %s)", (str(customer.id),)).fetchone()[0]
    counts = {s["table"]: s["count"] for s in report["sections"]}
    assert counts == direct_counts(conn, customer)
    assert len([c for c in counts.values() if c > 0]) == SECTIONS_WITH_ROWS
    for section in report["sections"]:
        assert len(section["rows"]) == section["count"]
        assert section["title_da"] and section["title_en"]
        assert "club_id" not in {c["name"] for c in section["columns"]}  # the tenant column is no customer data
    # the owner reads every sensitive value (access proven, not only denial)
    text = json.dumps(report, ensure_ascii=False)
    for value in (customer.cpr, customer.bank_account, customer.secret_field):
        assert value in text
    assert other.email not in text and other.cpr not in text
    info = report["information"]
    assert {"purposes", "categories", "recipients", "retention", "sources", "rights", "generated_at"} <= info.keys()
    assert any("Datatilsynet" in r["da"] for r in info["rights"])
    assert {r["right"] for r in info["rights"]} >= {"rectification", "erasure", "restriction", "objection", "complaint"}
    assert report["anonymized"] is None
    datetime.fromisoformat(info["generated_at"])


def test_cli_outputs_cover_every_section(run_cli, conn, club_data, tmp_path):
    customer, _ = club_data
    expected = {t: n for t, n in direct_counts(conn, customer).items() if n > 0}

    result = run_cli("report", str(customer.id), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {s["table"]: s["count"] for s in report["sections"] if s["count"]} == expected

    html_file = tmp_path / "r.html"
    assert run_cli("report", str(customer.id), "-o", str(html_file)).exit_code == 0
    html = html_file.read_text(encoding="utf-8")
    assert dict(re.findall(r'data-table="([^"]+)" data-count="(\d+)"', html)) == {t: str(n) for t, n in expected.items()}
    assert customer.cpr in html

    text = run_cli("report", str(customer.id), "--lang", "en").stdout
    assert "Class enrollments (3 records)" in text and customer.cpr in text

    csv_file = tmp_path / "e.csv"
    assert run_cli("export", str(customer.id), "-o", str(csv_file)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
    records = {}
    for row in rows:
        records.setdefault(row["section"], set()).add(row["record"])
    assert {s: len(r) for s, r in records.items()} == expected
    assert customer.cpr in {r["value"] for r in rows}

    zip_file = tmp_path / "e.zip"
    assert run_cli("export", str(customer.id), "-o", str(zip_file), "--zip").exit_code == 0
    with zipfile.ZipFile(zip_file) as archive:
        names = archive.namelist()
        readme = archive.read("README.txt").decode()
        per_file = {n: list(csv.reader(io.StringIO(archive.read(n).decode()))) for n in names if n.endswith(".csv")}
    assert sorted(len(r) - 1 for r in per_file.values() if len(r) > 1) == sorted(expected.values())
    for name, content in per_file.items():  # the README describes every column of every file
        assert name in readme
        for column in content[0]:
            assert f"    {column}: " in readme


def test_csv_parses_iso_dates_and_excel_variant(run_cli, club_data, tmp_path):
    customer, _ = club_data
    plain, excel = tmp_path / "p.csv", tmp_path / "x.csv"
    assert run_cli("export", str(customer.id), "-o", str(plain)).exit_code == 0
    assert run_cli("export", str(customer.id), "-o", str(excel), "--excel").exit_code == 0
    raw = plain.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    assert rows[0] == ["section", "section_title", "record", "field", "field_label", "value"]
    dates = [r[5] for r in rows[1:] if r[3] in ("enrolled_at", "booked_at", "member_since", "birth_date")]
    assert dates
    for value in dates:
        datetime.fromisoformat(value)  # ISO-8601
    xraw = excel.read_bytes()
    assert xraw.startswith(b"\xef\xbb\xbf")
    xrows = list(csv.reader(io.StringIO(xraw.decode("utf-8-sig")), delimiter=";"))
    assert xrows == rows
    assert "Kontobevægelser" in {r[1] for r in xrows}


# --- staff without the right ---------------------------------------------------------


def test_staff_without_right_reads_no_sensitive_value_anywhere(conn, db_dsn, run_cli, club_data, tmp_path):
    customer, _ = club_data
    role = staff_role(conn, 1)
    dsn = as_role(db_dsn, role)
    outputs = {}
    for fmt in ("json", "html", "text"):
        result = run_cli("report", str(customer.id), "--format", fmt, dsn=dsn)
        assert result.exit_code == 0, result.output
        outputs[fmt] = result.stdout
    for name, args in {"csv": [], "excel": ["--excel"]}.items():
        path = tmp_path / f"{name}.csv"
        assert run_cli("export", str(customer.id), "-o", str(path), *args, dsn=dsn).exit_code == 0
        outputs[name] = path.read_bytes().decode("utf-8-sig")
    zip_path = tmp_path / "e.zip"
    assert run_cli("export", str(customer.id), "-o", str(zip_path), "--zip", dsn=dsn).exit_code == 0
    with zipfile.ZipFile(zip_path) as archive:
        outputs["zip"] = "\n".join(archive.read(n).decode("utf-8") for n in archive.namelist()
                                       if not n.startswith("files/"))  # pictures are image files
    with psycopg.connect(dsn, autocommit=True) as staff:
        outputs["rows"] = json.dumps(staff.execute(
            "SELECT json_agg(r) FROM gdpr.insight_rows('customer', %s) r", (str(customer.id),)).fetchone()[0],
            ensure_ascii=False)
    for name, text in outputs.items():
        for value in secrets_of(customer):
            assert value not in text, f"{name} shows a sensitive value"
        assert "kræver login" in text, name
        assert customer.first_name in text  # not sensitive: the staff member does read the rest
    report = json.loads(outputs["json"])
    root = records(report, "club.customers")[0]
    assert root["cpr"] == root["bank_reg"] == root["bank_account"] == "kræver login"
    fields = records(report, "club.custom_field_values")
    assert {f["value"] for f in fields if f["is_sensitive"]} == {"kræver login"}
    assert {f["value"] for f in fields if not f["is_sensitive"]} == {"42"}
    log = records(report, "club.log_lines")
    assert all("CPR kræver login" in line["text"] for line in log)  # a CPR written into free text


def test_other_club_gets_the_same_error_as_an_unknown_customer(conn, db_dsn, run_cli, club_data, tmp_path):
    customer, other = club_data
    role = staff_role(conn, 2)
    dsn = as_role(db_dsn, role)
    errors = {}
    with psycopg.connect(dsn, autocommit=True) as staff:
        for key in (str(customer.id), "987654321", "12abc", "99999999999999999999999"):
            with pytest.raises(psycopg.errors.NoDataFound) as caught:
                staff.execute("SELECT gdpr.insight_report('customer', %s)", (key,))
            errors[key] = caught.value.diag.message_primary.replace(f"customer {key} ", "customer <key> ")
            with pytest.raises(psycopg.errors.NoDataFound):
                staff.execute("SELECT * FROM gdpr.insight_rows('customer', %s)", (key,))
        # the club's own customer works
        assert staff.execute("SELECT gdpr.insight_report('customer', %s)", (str(other.id),)).fetchone()[0]
    assert set(errors.values()) == {"customer <key> not found in club 2"}
    for args in (["report", str(customer.id)], ["report", "12abc"], ["export", str(customer.id), "-o", str(tmp_path / "x.csv")],
                 ["report", str(other.id), "--club", "1"]):
        result = run_cli(*args, dsn=dsn)
        assert result.exit_code == 1
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
        assert customer.first_name not in result.output
    assert not (tmp_path / "x.csv").exists()


def test_bad_input_is_one_line(run_cli, conn, club_data, tmp_path):
    customer, _ = club_data
    events = len(audit_events(conn))
    for args in (["report", "nope"], ["report", str(customer.id), "--kind", "planet"],
                 ["report", str(customer.id), "-o", str(tmp_path / "missing" / "r.html")],
                 ["export", str(customer.id), "-o", str(tmp_path / "missing" / "x.csv")],
                 ["report", str(customer.id), "--format", "pdf"]):  # a PDF needs -o FILE.pdf
        result = run_cli(*args)
        assert result.exit_code == 1, args
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output, args
    for args in (["report", str(customer.id), "--format", "docx"], ["export", str(customer.id)]):
        result = run_cli(*args)  # click's usage errors: exit code 2 with the usage line
        assert result.exit_code == 2 and "Traceback" not in result.output, args
    assert len(audit_events(conn)) == events  # nothing was reported, nothing audited


def test_roles_without_grants_cannot_use_the_functions(conn, db_dsn, club_data):
    customer, _ = club_data
    nobody = f"insight_nobody_{uuid.uuid4().hex[:8]}"
    conn.execute(f'CREATE ROLE "{nobody}" NOLOGIN')
    staff = staff_role(conn, 1)
    calls = ["SELECT gdpr.insight_report('customer', %s)", "SELECT * FROM gdpr.insight_rows('customer', %s)",
             "SELECT * FROM gdpr.insight_columns('customer') WHERE %s IS NOT NULL"]
    internal = ["SELECT gdpr.insight_collect('customer', %s, NULL)", "SELECT * FROM gdpr.insight_sections(%s)",
                "SELECT gdpr.insight_statements(%s)", "SELECT * FROM gdpr.insight_statement WHERE kind = %s"]
    with psycopg.connect(as_role(db_dsn, nobody), autocommit=True) as c:
        for sql in calls + internal:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(sql, (str(customer.id),))
    with psycopg.connect(as_role(db_dsn, staff), autocommit=True) as c:
        for sql in internal:  # staff use the audited entry points only
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(sql, (str(customer.id) if "collect" in sql else "customer",))
    # every function of this issue: definer's search_path pinned, no PUBLIC execute
    rows = conn.execute("""SELECT p.proname, p.prosecdef, p.proconfig, has_function_privilege('public', p.oid, 'EXECUTE')
                             FROM pg_proc p WHERE p.pronamespace = 'gdpr'::regnamespace
                              AND p.proname LIKE 'insight%%'""").fetchall()
    assert len(rows) >= 7
    for name, definer, config, public in rows:
        if definer:
            assert "search_path=pg_catalog, pg_temp" in (config or []), name
        if name != "insight_rights":
            assert not public, name


def test_each_report_and_export_leaves_one_audit_event_without_personal_data(conn, db_dsn, run_cli, club_data,
                                                                             tmp_path):
    customer, _ = club_data
    role = staff_role(conn, 1)
    runs = [(["report", str(customer.id), "--format", "json"], "insight_report", "json"),
            (["report", str(customer.id), "-o", str(tmp_path / "r.html")], "insight_report", "html"),
            (["report", str(customer.id), "--purpose", "kunden ringede"], "insight_report", "text"),
            (["export", str(customer.id), "-o", str(tmp_path / "e.csv")], "export", "csv"),
            (["export", str(customer.id), "-o", str(tmp_path / "e.csv"), "--excel"], "export", "csv-excel"),
            (["export", str(customer.id), "-o", str(tmp_path / "e.zip"), "--zip"], "export", "zip")]
    for args, action, fmt in runs:
        before = audit_events(conn)
        assert run_cli(*args, dsn=as_role(db_dsn, role)).exit_code == 0, args
        new = audit_events(conn)[len(before):]
        assert len(new) == 1, args
        event = new[0]
        assert (event["action"], event["details"]["format"], event["actor"]) == (action, fmt, role)
        assert (event["kind"], event["tenant"], event["subject_key"]) == ("customer", "1", str(customer.id))
        text = json.dumps(event, ensure_ascii=False)
        for value in personal_values(customer):
            assert value not in text, (args, value)
    # the report lists that history: date, action, purpose, never the staff member
    report = json.loads(run_cli("report", str(customer.id), "--format", "json").stdout)
    history = report["access_history"]
    assert {h["action"] for h in history} == {"insight_report", "export"}
    assert any(h["purpose"] == "note" for h in history)  # the caller's text is never shown back
    assert "kunden ringede" not in json.dumps(report, ensure_ascii=False)
    assert role not in json.dumps(report)
    assert sum(h["times"] for h in history) == len(runs)


def test_register_access_none_gets_no_report_or_export(conn, db_dsn, run_cli, club_data):
    """F3: register access 'none' holds for the report and the export (customers, and the
    staff register for colleagues): a clear refusal, no row, no audit event; the same
    role with 'read' gets the report."""
    customer, _ = club_data
    group = f"insight_none_{uuid.uuid4().hex[:6]}"
    member = staff_role(conn, 1)
    conn.execute("SELECT gdpr.create_staff_group('1', %s)", (group,))
    conn.execute(f'GRANT "{group}" TO "{member}"')
    for area in ("customers", "staff"):
        conn.execute("SELECT gdpr.set_right(%s, %s, 'register_access', 'none')", (group, area))
    colleague = conn.execute("SELECT min(id)::text FROM club.staff WHERE club_id = 1").fetchone()[0]
    before = len(audit_events(conn))
    with psycopg.connect(as_role(db_dsn, member), autocommit=True) as staff:
        for kind, key in (("customer", str(customer.id)), ("customer", "999999999"), ("staff", colleague or "1")):
            for call in ("SELECT gdpr.insight_report(%s, %s)", "SELECT * FROM gdpr.insight_rows(%s, %s)"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="no access to the .* register") as caught:
                    staff.execute(call, (kind, key))
                for value in personal_values(customer):
                    assert value not in str(caught.value)
    assert len(audit_events(conn)) == before
    for args in (["report", str(customer.id)], ["export", str(customer.id), "-o", "/tmp/never-written.csv"]):
        result = run_cli(*args, dsn=as_role(db_dsn, member))
        assert result.exit_code == 1 and "no access to the customers register" in result.output
        assert customer.email not in result.output and "Traceback" not in result.output
    # the legitimate path: read access gives the report
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'register_access', 'read')", (group,))
    with psycopg.connect(as_role(db_dsn, member), autocommit=True) as staff:
        report = staff.execute("SELECT gdpr.insight_report('customer', %s)", (str(customer.id),)).fetchone()[0]
    assert customer.email in json.dumps(report)


def test_purpose_is_kept_apart_with_numbers_masked(conn, db_dsn, club_data):
    """The caller's free-text purpose never enters the append-only audit trail: the
    event says 'note'; the text, CPR- and account-shaped numbers masked and capped at
    200 characters, is a note the subject's erasure deletes. The engine's own purpose
    codes are kept as they are."""
    customer, _ = club_data
    role = staff_role(conn, 1)
    purpose = (f"opslag for {customer.first_name} cpr {customer.cpr[:6]}-{customer.cpr[6:]} "
               f"konto {customer.bank_reg} {customer.bank_account} cpr2 0101701234")
    with psycopg.connect(as_role(db_dsn, role), autocommit=True) as staff:
        staff.execute("SELECT gdpr.insight_report('customer', %s, NULL, %s)", (str(customer.id), purpose))
        staff.execute("SELECT count(*) FROM gdpr.insight_rows('customer', %s, NULL, %s)",
                      (str(customer.id), purpose + " x" * 500))
        staff.execute("SELECT gdpr.insight_report('customer', %s, NULL, 'subject request')", (str(customer.id),))
    stored = conn.execute(
        "SELECT e.purpose, n.note FROM gdpr.audit_event e LEFT JOIN gdpr.audit_note n ON n.event_id = e.id "
        "WHERE e.action IN ('insight_report', 'export') ORDER BY e.id").fetchall()
    assert [p for p, _ in stored] == ["note", "note", "subject request"]
    for _, note in stored[:2]:
        assert len(note) <= 200 and note.startswith(f"opslag for {customer.first_name} cpr kræver login")
        for value in (customer.cpr, customer.bank_account, "0101701234"):
            assert value not in note, value
    assert stored[2][1] is None
    conn.execute("SELECT gdpr.anonymize('customer', %s, 'anmodning')", (str(customer.id),))
    assert conn.execute("SELECT count(*) FROM gdpr.audit_note WHERE note LIKE 'opslag%'").fetchone()[0] == 0


def test_staff_with_the_right_reads_the_values(conn, db_dsn, club_data):
    """The report asks gdpr.sensitive_access_of(), the function the masking views use:
    a group granted "view sensitive" reads the values, a "hidden" group reads nothing."""
    customer, _ = club_data
    results = {}
    for level in ("allowed", "hidden"):
        group = f"insight_group_{level}_{uuid.uuid4().hex[:6]}"
        member = staff_role(conn, 1)
        conn.execute("SELECT gdpr.create_staff_group('1', %s)", (group,))
        conn.execute(f'GRANT "{group}" TO "{member}"')
        conn.execute("SELECT gdpr.set_right(%s, 'customers', 'view_sensitive', %s)", (group, level))
        with psycopg.connect(as_role(db_dsn, member), autocommit=True) as staff:
            report = staff.execute("SELECT gdpr.insight_report('customer', %s)", (str(customer.id),)).fetchone()[0]
        assert report["sensitive_access"] == level
        results[level] = json.dumps(report, ensure_ascii=False)
    assert customer.cpr in results["allowed"] and customer.secret_field in results["allowed"]
    for value in secrets_of(customer):
        assert value not in results["hidden"]
    assert "kræver login" not in results["hidden"]


def test_anonymised_customer_report_says_so(conn, run_cli, club_data):
    customer, _ = club_data
    # what an erasure leaves (the erasure itself is another issue): the row scrubbed and
    # marked, deletable data gone, account movements retained (Bogføringsloven)
    for table in ("class_enrollments", "table_bookings", "reservations", "activities", "consents", "notes",
                  "custom_field_values"):
        conn.execute(f"DELETE FROM club.{table} WHERE club_id = 1 AND customer_id = %s", (customer.id,))
    conn.execute("""UPDATE club.customers SET first_name = 'Anonymiseret', last_name = 'Anonymiseret', email = NULL,
                        phone = NULL, cpr = NULL, bank_reg = NULL, bank_account = NULL,
                        anonymized_at = '2026-03-01 12:00+00' WHERE club_id = 1 AND id = %s""", (customer.id,))
    conn.execute("INSERT INTO gdpr.erasure_ledger (kind, tenant, subject_key, erased_at, actor, reason_category) "
                 "VALUES ('customer', '1', %s, '2026-03-01 12:00+00', 'postgres', 'request')", (str(customer.id),))
    report = json.loads(run_cli("report", str(customer.id), "--format", "json").stdout)
    assert report["anonymized"]["at"].startswith("2026-03-01")
    kept = {k["table"]: k["count"] for k in report["anonymized"]["kept"]}
    assert kept["club.account_movements"] == 3 and "club.notes" not in kept
    text = run_cli("report", str(customer.id), "--lang", "en").stdout
    assert "anonymised" in text and "Account movements (3 records)" in text
    html = run_cli("report", str(customer.id), "--format", "html").stdout
    assert 'id="anonymized"' in html and "Kunden er anonymiseret" in html


def test_html_escapes_values(conn, run_cli, club_data):
    customer, _ = club_data
    conn.execute("UPDATE club.notes SET text = '<script>alert(1)</script>' WHERE customer_id = %s", (customer.id,))
    html = run_cli("report", str(customer.id), "--format", "html").stdout
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


# --- a real browser -------------------------------------------------------------------


def test_browser_shows_every_section_and_no_sensitive_value(conn, db_dsn, run_cli, club_data, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium is not installed (Debian package `chromium`)")
    customer, _ = club_data
    role = staff_role(conn, 1)
    page = tmp_path / "report.html"
    assert run_cli("report", str(customer.id), "-o", str(page), dsn=as_role(db_dsn, role)).exit_code == 0
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'chromium'}", "--dump-dom", page.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=90, check=True).stdout
    assert "<body" in dom  # the browser parsed and laid out the page
    counts = direct_counts(conn, customer)
    sections = conn.execute("SELECT table_schema || '.' || table_name, title_da FROM gdpr.catalog_table "
                            "WHERE kind = 'customer' ORDER BY position").fetchall()
    assert len(sections) == len(counts)
    for table, title in sections:
        assert f'data-table="{table}" data-count="{counts[table]}"' in dom
        assert f"{title} <span" in dom
    assert "Datatilsynet" in dom and "kræver login" in dom
    for value in secrets_of(customer):
        assert value not in dom


def test_report_follows_schema_and_catalog_changes(conn, club_data):
    """The generated statements are cached per kind; a new column or a changed
    declaration shows in the next report (the customer has a right to all data)."""
    customer, _ = club_data

    def notes_columns():
        report = conn.execute("SELECT gdpr.insight_report('customer', %s)", (str(customer.id),)).fetchone()[0]
        section = next(s for s in report["sections"] if s["table"] == "club.notes")
        return {c["name"]: c for c in section["columns"]}, records(report, "club.notes")

    columns, _ = notes_columns()
    assert "mood" not in columns
    conn.execute("ALTER TABLE club.notes ADD COLUMN mood text DEFAULT 'glad'")
    columns, rows = notes_columns()
    assert "mood" in columns and {r["mood"] for r in rows} == {"glad"}
    conn.execute("SELECT gdpr.declare_column('club', 'notes', 'mood', 'free_text', p_label_en => 'Mood')")
    columns, _ = notes_columns()
    assert columns["mood"]["label_en"] == "Mood" and columns["mood"]["category"] == "free_text"
