"""Data-subject requests (GDPR Art. 12(3)): the register, its deadlines on a fixed
clock, the notes people type (pattern-redacted, deleted at erasure), the report and
export that answer a request, and who may read or change the register."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import psycopg
import pytest
from psycopg import errors, sql

from factory import make_club, make_customer

CPR_NOTE = "Viste pas, CPR 010170-1234, konto 1234 0001234567, IBAN DK5000400440116243"
T0 = datetime(2024, 1, 31, 10, 0, tzinfo=timezone.utc)  # receipt; due 29 Feb (leap year), Copenhagen time


def as_role(conn, role):
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))


def staff(conn, club: int, register: str = "write", name: str = "s") -> str:
    """A staff login of `club` in a group with the given register access to customers."""
    sfx = uuid.uuid4().hex[:8]
    group = f"grp_{name}_{sfx}"
    conn.execute("SELECT gdpr.create_staff_group(%s, %s)", (str(club), group))
    conn.execute("SELECT gdpr.set_right(%s, 'customers', 'register_access', %s)", (group, register))
    role = f"staff_{name}_{sfx}"
    conn.execute("SELECT gdpr.add_staff(%s, %s, ARRAY[%s]::name[])", (str(club), role, group))
    return role


@pytest.fixture
def club(conn):
    make_club(conn, 1, name="Fitness Øst")
    make_club(conn, 2, name="Padel Vest")
    return {"a": make_customer(conn, 1), "b": make_customer(conn, 1), "other": make_customer(conn, 2)}


def open_request(conn, customer, rtype="access", received=T0, note=CPR_NOTE, verification="in_person_id"):
    return conn.execute("SELECT gdpr.open_request('customer', %s, %s, %s, %s, %s)",
                        (str(customer.id), rtype, verification, note, received)).fetchone()[0]


def listed(conn, **kw):
    args = {"p_tenant": None, "p_overdue": False, "p_now": None, **kw}
    return {r["id"]: r for r in conn.cursor(row_factory=psycopg.rows.dict_row).execute(
        "SELECT * FROM gdpr.list_requests(%(p_tenant)s, %(p_overdue)s, %(p_now)s)", args)}


def test_deadline_is_one_calendar_month_in_the_clubs_time_zone_and_overdue_follows_the_clock(conn, club):
    rid = open_request(conn, club["a"])
    due = conn.execute("SELECT due_at FROM gdpr.dsr_request WHERE id = %s", (rid,)).fetchone()[0]
    # 31 January 11:00 Copenhagen + 1 month = 29 February 11:00 Copenhagen
    assert due == datetime(2024, 2, 29, 10, 0, tzinfo=timezone.utc)
    before = datetime(2024, 2, 29, 9, 59, tzinfo=timezone.utc)
    after = datetime(2024, 2, 29, 10, 1, tzinfo=timezone.utc)
    assert listed(conn, p_now=before)[rid]["overdue"] is False
    assert rid not in listed(conn, p_overdue=True, p_now=before)
    assert listed(conn, p_overdue=True, p_now=after)[rid]["overdue"] is True
    # the record of processing counts it as overdue (its clock is the real one: 2024 is past)
    figures = conn.execute("SELECT gdpr.compliance_record('1')").fetchone()[0]["figures"]["requests"]
    assert figures["open"] == 1 and figures["overdue"] == 1


def test_extension_once_by_up_to_two_months_before_the_first_deadline(conn, club):
    rid = open_request(conn, club["a"])
    late = datetime(2024, 3, 1, tzinfo=timezone.utc)
    with pytest.raises(errors.ObjectInUse, match="before the first deadline"):
        conn.execute("SELECT gdpr.extend_request(%s, 2, 'many records', %s)", (rid, late))
    with pytest.raises(errors.InvalidParameterValue):
        conn.execute("SELECT gdpr.extend_request(%s, 3, 'many records', %s)", (rid, T0))
    with pytest.raises(errors.InvalidParameterValue, match="reason"):
        conn.execute("SELECT gdpr.extend_request(%s, 1, '  ', %s)", (rid, T0))
    on_time = datetime(2024, 2, 20, tzinfo=timezone.utc)
    due = conn.execute("SELECT gdpr.extend_request(%s, 2, 'Ring til 0101701234 om sagen', %s)",
                       (rid, on_time)).fetchone()[0]
    assert due == datetime(2024, 4, 30, 9, 0, tzinfo=timezone.utc)  # 31 Jan + 3 months, summer time
    with pytest.raises(errors.ObjectInUse, match="extended once"):
        conn.execute("SELECT gdpr.extend_request(%s, 1, 'again', %s)", (rid, on_time))
    row = listed(conn, p_now=datetime(2024, 3, 15, tzinfo=timezone.utc))[rid]
    assert row["overdue"] is False and row["extended_due_at"] == due
    assert {"topic": "request_extension", "note": "Ring til [nummer fjernet] om sagen"}.items() <= \
        next(n for n in row["notes"] if n["topic"] == "request_extension").items()


def test_close_links_the_answering_action_and_counts_late_answers(conn, club):
    access = open_request(conn, club["a"])
    erasure = open_request(conn, club["b"], "erasure")
    with pytest.raises(errors.ObjectNotInPrerequisiteState, match="answer it first"):
        conn.execute("SELECT gdpr.close_request(%s)", (access,))
    with pytest.raises(errors.InvalidParameterValue, match="Art. 12"):
        conn.execute("SELECT gdpr.close_request(%s, 'refused')", (erasure,))
    conn.execute("SELECT gdpr.insight_report('customer', %s)", (str(club["a"].id),))
    conn.execute("SELECT gdpr.insight_report('customer', %s)", (str(club["b"].id),))  # another subject
    result = conn.execute("SELECT gdpr.close_request(%s, 'answered', NULL, %s)",
                          (access, datetime(2024, 2, 10, tzinfo=timezone.utc))).fetchone()[0]
    assert result["late"] is False and [e["action"] for e in result["events"]] == ["insight_report"]
    event = conn.execute("SELECT subject_key FROM gdpr.audit_event WHERE id = %s",
                         (result["events"][0]["event_id"],)).fetchone()[0]
    assert event == str(club["a"].id)
    # the erasure request is answered by the erasure, after the deadline
    conn.execute("SELECT gdpr.anonymize('customer', %s, 'request')", (str(club["b"].id),))
    late = conn.execute("SELECT gdpr.close_request(%s, 'answered', NULL, %s)",
                        (erasure, datetime(2024, 3, 5, tzinfo=timezone.utc))).fetchone()[0]
    assert late["late"] is True and [e["action"] for e in late["events"]] == ["anonymize"]
    with pytest.raises(errors.ObjectInUse, match="already closed"):
        conn.execute("SELECT gdpr.close_request(%s)", (erasure,))
    figures = conn.execute("SELECT gdpr.compliance_record('1')").fetchone()[0]["figures"]["requests"]
    assert figures["answered"] == 2 and figures["answered_late"] == 1 and figures["open"] == 0
    actions = [a for (a,) in conn.execute("SELECT action FROM gdpr.audit_event WHERE action LIKE 'request%%'")]
    assert actions.count("request_opened") == 2 and actions.count("request_closed") == 2


def test_notes_are_redacted_kept_out_of_the_audit_trail_and_deleted_at_erasure(conn, club):
    rid = open_request(conn, club["a"])
    conn.execute("SELECT gdpr.close_request(%s, 'refused', %s)", (rid, "Afvist: 0101701234 er ikke kunden"))
    stored = [n for (n,) in conn.execute("SELECT note FROM gdpr.subject_note ORDER BY id")]
    assert stored == ["Viste pas, CPR [nummer fjernet], konto [nummer fjernet], IBAN [nummer fjernet]",
                      "Afvist: [nummer fjernet] er ikke kunden"]
    trail = json.dumps(conn.execute("SELECT json_agg(e) FROM gdpr.audit_event e").fetchone()[0])
    assert "Viste pas" not in trail and "Afvist" not in trail and "0101" not in trail
    # separators of any kind, and account numbers with a registration number
    for text in ("010170 1234", "010170/1234", "010170.1234", "0101701234", "1234-1234567890", "1234 123456"):
        assert any(m in conn.execute("SELECT gdpr.redact_note(%s)", (f"x {text} y",)).fetchone()[0]
                   for m in ("[nummer fjernet]",)), text
    assert conn.execute("SELECT gdpr.redact_note('tlf 12345678, kl. 10')").fetchone()[0] == "tlf 12345678, kl. 10"
    conn.execute("SELECT gdpr.anonymize('customer', %s, 'request')", (str(club["a"].id),))
    assert conn.execute("SELECT count(*) FROM gdpr.subject_note").fetchone()[0] == 0
    # the register row itself stays: proof the request was handled
    assert conn.execute("SELECT status FROM gdpr.dsr_request WHERE id = %s", (rid,)).fetchone()[0] == "refused"


def test_cli_request_lifecycle_and_report_that_answers_it(conn, club, run_cli, tmp_path):
    a = club["a"]
    result = run_cli("request", "open", str(a.id), "--type", "access", "--verified", "mitid",
                     "--received", "2024-01-31 11:00", "--club", "1")
    assert result.exit_code == 0, result.output
    rid = int(result.output.split()[1])
    assert "due 2024-02-29" in result.output
    overdue = run_cli("request", "list", "--club", "1", "--overdue", "--now", "2024-03-01")
    assert f"#{rid}" in overdue.output and "OVERDUE" in overdue.output
    assert "no overdue requests" in run_cli("request", "list", "--club", "1", "--overdue", "--now", "2024-02-01").output
    ext = run_cli("request", "extend", str(rid), "--months", "1", "--reason", "Mange oplysninger")
    assert ext.exit_code != 0 and "before the first deadline" in ext.output  # the real clock is past it

    # the report for the wrong subject rolls everything back: no file, no audit event, request open
    events = conn.execute("SELECT count(*) FROM gdpr.audit_event WHERE action = 'insight_report'").fetchone()[0]
    out = tmp_path / "wrong.html"
    wrong = run_cli("report", str(club["b"].id), "--request", str(rid), "-o", str(out))
    assert wrong.exit_code == 1 and "answer it first" in wrong.output and "Traceback" not in wrong.output
    assert not out.exists()
    assert conn.execute("SELECT count(*) FROM gdpr.audit_event WHERE action = 'insight_report'").fetchone()[0] == events
    assert conn.execute("SELECT status FROM gdpr.dsr_request WHERE id = %s", (rid,)).fetchone()[0] == "open"

    out = tmp_path / "report.html"
    ok = run_cli("report", str(a.id), "--request", str(rid), "-o", str(out))
    assert ok.exit_code == 0, ok.output
    assert out.exists() and f"request {rid} answered and closed (after the deadline)" in ok.output
    linked = conn.execute("""SELECT e.action, e.subject_key FROM gdpr.dsr_request_event x
                             JOIN gdpr.audit_event e ON e.id = x.event_id WHERE x.request_id = %s""",
                          (rid,)).fetchall()
    assert linked == [("insight_report", str(a.id))]
    rows = json.loads(run_cli("request", "list", "--club", "1", "--format", "json").output)
    assert [r["status"] for r in rows if r["id"] == rid] == ["answered"]

    # a portability request answered by the export
    port = int(run_cli("request", "open", str(a.id), "--type", "portability", "--verified", "known_email",
                       "--club", "1").output.split()[1])
    csv = tmp_path / "export.csv"
    done = run_cli("export", str(a.id), "--request", str(port), "-o", str(csv))
    assert done.exit_code == 0, done.output
    assert csv.exists() and f"request {port} answered and closed" in done.output
    assert "after the deadline" not in done.output
    closed = run_cli("request", "close", str(port))
    assert closed.exit_code == 1 and "already closed" in closed.output


def test_personas_cannot_read_or_act_on_what_they_must_not(conn, club):
    writer = staff(conn, 1, "write", "writer")
    reader = staff(conn, 1, "read", "reader")
    blind = staff(conn, 1, "none", "blind")
    other = staff(conn, 2, "write", "other")
    nobody = f"nobody_{uuid.uuid4().hex[:8]}"
    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(nobody)))
    rid = open_request(conn, club["a"])

    as_role(conn, writer)  # may open and change within club 1
    mine = conn.execute("SELECT gdpr.open_request('customer', %s, 'erasure', 'mitid')",
                        (str(club["b"].id),)).fetchone()[0]
    assert set(listed(conn)) == {rid, mine}
    with pytest.raises(errors.InsufficientPrivilege, match="clock"):  # staff cannot backdate
        conn.execute("SELECT gdpr.close_request(%s, 'withdrawn', NULL, %s)", (mine, T0))
    with pytest.raises(errors.NoDataFound):  # club 2's customer is not found from club 1
        conn.execute("SELECT gdpr.open_request('customer', %s, 'access', 'mitid')", (str(club["other"].id),))
    conn.execute("RESET ROLE")

    as_role(conn, reader)  # reads, cannot change
    assert set(listed(conn)) == {rid, mine}
    for stmt in (f"SELECT gdpr.open_request('customer', '{club['a'].id}', 'access', 'mitid')",
                 f"SELECT gdpr.extend_request({rid}, 1, 'x')", f"SELECT gdpr.close_request({rid}, 'withdrawn')"):
        with pytest.raises(errors.InsufficientPrivilege, match="may not change"):
            conn.execute(stmt)
    conn.execute("RESET ROLE")

    as_role(conn, blind)  # register access none to customers: not even the list of their requests
    assert listed(conn) == {}
    with pytest.raises(errors.InsufficientPrivilege, match="may not change"):
        conn.execute(f"SELECT gdpr.close_request({rid}, 'withdrawn')")
    conn.execute("RESET ROLE")

    as_role(conn, other)  # another club: sees nothing, reaches nothing, cannot name club 1
    assert listed(conn) == {}
    for stmt in (f"SELECT gdpr.extend_request({rid}, 1, 'x')", f"SELECT gdpr.close_request({rid}, 'withdrawn')"):
        with pytest.raises(errors.NoDataFound):
            conn.execute(stmt)
    with pytest.raises(errors.InsufficientPrivilege, match="may not act for club 1"):
        listed(conn, p_tenant="1")
    for table in ("subject_note", "dsr_request", "dsr_request_event"):
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"SELECT * FROM gdpr.{table}")
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT gdpr.request_figures('1')")
    conn.execute("RESET ROLE")

    as_role(conn, nobody)
    for stmt in ("SELECT * FROM gdpr.list_requests()", "SELECT gdpr.redact_note('x')"):
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(stmt)
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT status FROM gdpr.dsr_request WHERE id = %s", (rid,)).fetchone()[0] == "open"
