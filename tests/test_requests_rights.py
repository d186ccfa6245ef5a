"""Restriction of processing (Art. 18), consent withdrawal (Art. 7(3)), the legal
basis of sensitive columns (Art. 9(2), Databeskyttelsesloven §11) and children
(Databeskyttelsesloven §6): what each does, and who may not use it."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest
from psycopg import errors, sql

from factory import make_club, make_customer
from test_requests import as_role, staff


@pytest.fixture
def club(conn):
    make_club(conn, 1, name="Fitness Øst")
    make_club(conn, 2, name="Padel Vest")
    return {"a": make_customer(conn, 1), "b": make_customer(conn, 1), "other": make_customer(conn, 2)}


def queue(conn, customer, template="newsletter"):
    conn.execute("INSERT INTO gdpr.outbox (kind, tenant, subject_key, template) VALUES ('customer', %s, %s, %s)",
                 (str(customer.club_id), str(customer.id), template))


def queued(conn, customer, template=None):
    return conn.execute("SELECT count(*) FROM gdpr.outbox WHERE subject_key = %s AND (%s::text IS NULL "
                        "OR template = %s)", (str(customer.id), template, template)).fetchone()[0]


def restricted(conn, customer):
    return conn.execute("SELECT gdpr.subject_restricted('customer', %s, %s)",
                        (str(customer.club_id), str(customer.id))).fetchone()[0]


# -- restriction of processing ------------------------------------------------------

def test_restriction_keeps_the_data_stops_messages_and_is_lifted_with_an_audit(conn, club, run_cli):
    a, b = club["a"], club["b"]
    queue(conn, a)
    queue(conn, b)
    result = run_cli("restriction", "set", str(a.id), "--ground", "accuracy_contested", "--club", "1",
                     "--note", "Kunden bestrider CPR 0101701234")
    assert result.exit_code == 0, result.output
    rid = int(result.output.split()[1])
    assert restricted(conn, a) and not restricted(conn, b)
    assert queued(conn, a) == 0 and queued(conn, b) == 1  # the queued message was cancelled
    queue(conn, a)  # and no new one is queued
    assert queued(conn, a) == 0
    # the data stays
    assert conn.execute("SELECT cpr FROM club.customers WHERE id = %s", (a.id,)).fetchone()[0] == a.cpr
    # the queue_message action of a rule queues for the others only
    outcome = conn.execute("SELECT subject_key FROM gdpr.action_queue_message(NULL, NULL, 'customer', '1', %s, "
                           "'{\"template\": \"birthday\"}')", ([str(a.id), str(b.id)],)).fetchall()
    assert outcome == [(str(b.id),)]
    listed = json.loads(run_cli("restriction", "list", "--club", "1", "--format", "json").output)
    assert [(r["id"], r["ground"]) for r in listed] == [(rid, "accuracy_contested")]
    assert listed[0]["notes"][0]["note"] == "Kunden bestrider CPR [nummer fjernet]"
    event = conn.execute("SELECT details FROM gdpr.audit_event WHERE action = 'restriction_set'").fetchone()[0]
    assert event["messages_cancelled"] == 1 and "bestrider" not in json.dumps(event)
    assert run_cli("restriction", "lift", str(rid)).exit_code == 0
    assert not restricted(conn, a)
    queue(conn, a)
    assert queued(conn, a) == 1
    assert conn.execute("SELECT count(*) FROM gdpr.audit_event WHERE action = 'restriction_lifted'").fetchone()[0] == 1
    again = run_cli("restriction", "lift", str(rid))
    assert again.exit_code == 1 and "already lifted" in again.output


def test_restriction_ends_by_itself_and_answers_a_restriction_request(conn, club):
    a = club["a"]
    rid = conn.execute("SELECT gdpr.open_request('customer', %s, 'restriction', 'mitid')", (str(a.id),)).fetchone()[0]
    conn.execute("SELECT gdpr.restrict_processing('customer', %s, 'objection_pending', NULL, now() + interval '1 day', "
                 "%s)", (str(a.id), rid))
    assert conn.execute("SELECT gdpr.subject_restricted('customer', '1', %s, now() + interval '2 days')",
                        (str(a.id),)).fetchone()[0] is False
    assert restricted(conn, a)
    closed = conn.execute("SELECT gdpr.close_request(%s)", (rid,)).fetchone()[0]
    assert [e["action"] for e in closed["events"]] == ["restriction_set"]
    with pytest.raises(errors.InvalidParameterValue, match="future"):
        conn.execute("SELECT gdpr.restrict_processing('customer', %s, 'legal_claims', NULL, now() - interval '1 day')",
                     (str(a.id),))


def test_restriction_personas(conn, club):
    a, other = club["a"], club["other"]
    reader = staff(conn, 1, "read", "reader")
    writer2 = staff(conn, 2, "write", "other")
    rid = conn.execute("SELECT gdpr.restrict_processing('customer', %s, 'legal_claims')", (str(a.id),)).fetchone()[0]
    as_role(conn, reader)
    assert [r[0] for r in conn.execute("SELECT id FROM gdpr.active_restrictions()")] == [rid]
    with pytest.raises(errors.InsufficientPrivilege, match="may not change"):
        conn.execute("SELECT gdpr.lift_restriction(%s)", (rid,))
    with pytest.raises(errors.InsufficientPrivilege, match="may not change"):
        conn.execute("SELECT gdpr.restrict_processing('customer', %s, 'legal_claims')", (str(a.id),))
    for stmt in ("SELECT gdpr.subject_restricted('customer', '1', '1')",
                 "SELECT * FROM gdpr.restricted_subject_keys('customer', '1')",
                 "SELECT * FROM gdpr.processing_restriction"):
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(stmt)
    conn.execute("RESET ROLE")
    as_role(conn, writer2)
    assert conn.execute("SELECT count(*) FROM gdpr.active_restrictions()").fetchone()[0] == 0
    with pytest.raises(errors.NoDataFound):
        conn.execute("SELECT gdpr.lift_restriction(%s)", (rid,))
    with pytest.raises(errors.NoDataFound):  # club 1's customer is not found from club 2
        conn.execute("SELECT gdpr.restrict_processing('customer', %s, 'legal_claims')", (str(a.id),))
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM gdpr.active_restrictions(NULL, NULL, '1')")
    conn.execute("SELECT gdpr.restrict_processing('customer', %s, 'legal_claims')", (str(other.id),))
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT lifted_at FROM gdpr.processing_restriction WHERE id = %s", (rid,)).fetchone()[0] is None


# -- consent withdrawal ---------------------------------------------------------------

def test_withdrawing_photo_consent_erases_the_photo_at_once_and_the_report_shows_it(conn, club, run_cli):
    a, b = club["a"], club["b"]
    result = run_cli("consent", "withdraw", str(a.id), "--type", "photo_marketing", "--club", "1")
    assert result.exit_code == 0, result.output
    assert "club.customers.photo (1)" in result.output
    photos = dict(conn.execute("SELECT id, photo IS NOT NULL FROM club.customers WHERE id IN (%s, %s)", (a.id, b.id)))
    assert photos == {a.id: False, b.id: True}
    event = conn.execute("SELECT details FROM gdpr.audit_event WHERE action = 'consent_withdrawn'").fetchone()[0]
    assert event["consent_type"] == "photo_marketing" and event["erased"] == {"club.customers.photo": 1}
    report = conn.execute("SELECT gdpr.insight_report('customer', %s)", (str(a.id),)).fetchone()[0]
    consents = next(s for s in report["sections"] if s["table"] == "club.consents")
    names = [c["name"] for c in consents["columns"]]
    rows = [dict(zip(names, r)) for r in consents["rows"]]
    assert [r["withdrawn_at"] is not None for r in rows if r["consent_type"] == "photo_marketing"] == [True]
    assert [r["withdrawn_at"] for r in rows if r["consent_type"] == "terms"] == [None]
    again = run_cli("consent", "withdraw", str(a.id), "--type", "photo_marketing")
    assert again.exit_code == 1 and "no active consent" in again.output
    unknown = run_cli("consent", "withdraw", str(a.id), "--type", "terms")
    assert unknown.exit_code == 1 and "no declared cover" in unknown.output


def test_withdrawing_the_newsletter_stops_its_messages_until_consent_is_given_again(conn, club):
    a = club["a"]
    conn.execute("SELECT gdpr.record_consent('customer', %s, 'newsletter')", (str(a.id),))
    queue(conn, a, "newsletter")
    queue(conn, a, "birthday")
    conn.execute("SELECT gdpr.withdraw_consent('customer', %s, 'newsletter')", (str(a.id),))
    assert queued(conn, a, "newsletter") == 0 and queued(conn, a, "birthday") == 1
    queue(conn, a, "newsletter")
    assert queued(conn, a, "newsletter") == 0
    conn.execute("SELECT gdpr.record_consent('customer', %s, 'newsletter')", (str(a.id),))
    queue(conn, a, "newsletter")
    assert queued(conn, a, "newsletter") == 1


def test_consent_personas(conn, club):
    a = club["a"]
    reader = staff(conn, 1, "read", "reader")
    other = staff(conn, 2, "write", "other")
    for role, error in ((reader, errors.InsufficientPrivilege), (other, errors.NoDataFound)):
        as_role(conn, role)
        with pytest.raises(error):
            conn.execute("SELECT gdpr.withdraw_consent('customer', %s, 'photo_marketing')", (str(a.id),))
        with pytest.raises(error):
            conn.execute("SELECT gdpr.record_consent('customer', %s, 'newsletter')", (str(a.id),))
        for stmt in ("SELECT * FROM gdpr.consent_withdrawal",
                     "SELECT gdpr.declare_consent_cover('customer', 'terms', '{club.customers.photo}')"):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(stmt)
        conn.execute("RESET ROLE")
    assert conn.execute("SELECT photo IS NOT NULL FROM club.customers WHERE id = %s", (a.id,)).fetchone()[0]


# -- legal basis of sensitive columns ----------------------------------------------------

def test_catalog_refuses_a_sensitive_column_without_its_legal_basis(conn):
    for stmt in ("SELECT gdpr.declare_column('club', 'notes', 'text', 'free_text', 'redact', true)",
                 "SELECT gdpr.declare_column('club', 'staff', 'phone', 'national_id', 'null')",
                 "UPDATE gdpr.catalog_column SET sensitive = true WHERE table_name = 'log_lines'"):
        with pytest.raises(errors.InvalidParameterValue, match="legal basis"):
            conn.execute(stmt)
    conn.execute("SELECT gdpr.declare_column_basis('club', 'notes', 'text', 'GDPR art. 9(2)(h) (helbred / health)')")
    conn.execute("SELECT gdpr.declare_column('club', 'notes', 'text', 'free_text', 'redact', true)")
    # a bank detail is masked but is no special category: no basis needed
    conn.execute("SELECT gdpr.declare_column('club', 'staff', 'phone', 'bank', 'null', true)")
    make_club(conn, 1)
    special = conn.execute("SELECT gdpr.compliance_record('1')").fetchone()[0]["special_categories"]
    by_column = {(s["table"], s["column"]): s["basis"] for s in special}
    assert by_column[("club.notes", "text")].startswith("GDPR art. 9(2)(h)")
    assert "§11" in by_column[("club.customers", "cpr")] and "§11" in by_column[("club.staff", "cpr")]
    assert "9(2)" in by_column[("club.custom_field_values", "value")]
    assert ("club.staff", "phone") not in by_column


def test_a_catalog_file_without_the_basis_is_refused(conn, tmp_path, repo_root):
    from pgdpr.catalog import apply as apply_catalog
    text = (repo_root / "catalogs" / "club.toml").read_text(encoding="utf-8")
    line = 'text = { category = "free_text", erase = "redact", label = { da = "Tekst", en = "Text" } }'
    assert line in text
    path = tmp_path / "club.toml"
    path.write_text(text.replace(line, line.replace('"free_text",', '"free_text", sensitive = true,'), 1),
                    encoding="utf-8")
    with pytest.raises(errors.InvalidParameterValue, match="log_lines.text: a sensitive column needs"):
        apply_catalog(conn, path)
    # nothing of the file was applied: the old declaration stands
    assert conn.execute("SELECT sensitive FROM gdpr.catalog_column WHERE table_name = 'log_lines'").fetchone()[0] \
        is False
    # with the basis, the file applies
    path.write_text(text.replace(line, line.replace('"free_text",', '"free_text", sensitive = true,').replace(
        " }", ', basis = "GDPR art. 9(2)(f) (retskrav / legal claims)" }'), 1), encoding="utf-8")
    apply_catalog(conn, path)
    assert conn.execute("SELECT sensitive FROM gdpr.catalog_column WHERE table_name = 'log_lines'").fetchone()[0]


# -- children ------------------------------------------------------------------------------

def set_birth(conn, customer, years_ago: int, days: int = 0):
    conn.execute("UPDATE club.customers SET birth_date = (current_date - make_interval(years => %s))::date + %s::int "
                 "WHERE id = %s", (years_ago, days, customer.id))


def test_children_are_flagged_and_their_consents_name_the_guardian(conn, club):
    a, b = club["a"], club["b"]
    set_birth(conn, a, 12)
    set_birth(conn, b, 13, -1)  # 13 since yesterday: a minor, old enough to consent (§6)
    band = "SELECT gdpr.subject_age_band('customer', '1', %s)"
    assert conn.execute(band, (str(a.id),)).fetchone()[0] == "under_13"
    assert conn.execute(band, (str(b.id),)).fetchone()[0] == "under_18"
    assert conn.execute(band, (str(club["other"].id),)).fetchone()[0] is None  # not club 1's customer
    assert conn.execute("SELECT gdpr.subject_age_band('customer', '2', %s)",
                        (str(club["other"].id),)).fetchone()[0] == "adult"
    assert conn.execute("SELECT gdpr.subject_age_band('customer', '1', %s, %s)",
                        (str(a.id), date.today().replace(year=date.today().year + 1))).fetchone()[0] == "under_18"
    with pytest.raises(errors.InvalidParameterValue, match="guardian"):
        conn.execute("SELECT gdpr.record_consent('customer', %s, 'photo_marketing')", (str(a.id),))
    given = conn.execute("SELECT gdpr.record_consent('customer', %s, 'photo_marketing', 'Mor: Anne Hansen')",
                         (str(a.id),)).fetchone()[0]
    assert given["age_band"] == "under_13" and given["guardian_named"]
    assert conn.execute("SELECT guardian_name FROM club.consents WHERE customer_id = %s AND guardian_name IS NOT NULL",
                        (a.id,)).fetchone()[0] == "Mor: Anne Hansen"
    conn.execute("SELECT gdpr.record_consent('customer', %s, 'newsletter')", (str(b.id),))
    minors = conn.execute("SELECT gdpr.compliance_record('1')").fetchone()[0]["figures"]["minors"]["customer"]
    # the factory's consents of customer a (terms, photo) predate the guardian column: 2 without one
    assert {"under_13": 1, "under_18": 2, "under_13_consents_without_guardian": 2}.items() <= minors.items()
    assert conn.execute("SELECT gdpr.compliance_record('2')").fetchone()[0]["figures"]["minors"]["customer"][
        "under_18"] == 0


def test_age_band_is_not_open_to_staff(conn, club):
    role = staff(conn, 1, "write", "w")
    as_role(conn, role)
    for stmt in ("SELECT gdpr.subject_age_band('customer', '1', '1')", "SELECT gdpr.minor_figures('1')",
                 "SELECT gdpr.declare_birth_date('customer', 'birth_date')"):
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(stmt)
    conn.execute("RESET ROLE")
    nobody = f"nobody_{uuid.uuid4().hex[:8]}"
    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(nobody)))
    as_role(conn, nobody)
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT gdpr.record_consent('customer', '1', 'newsletter', 'x')")
    conn.execute("RESET ROLE")


def test_a_restriction_or_withdrawal_names_only_the_subjects_own_request(conn):
    make_club(conn, 3)
    a, b = make_customer(conn, 3), make_customer(conn, 3)
    other = conn.execute("SELECT gdpr.open_request('customer', %s, 'restriction', 'mitid', NULL, NULL, '3')",
                         (str(b.id),)).fetchone()[0]
    with pytest.raises(errors.NoDataFound, match=f"request {other} not found for customer {a.id}"):
        conn.execute("SELECT gdpr.restrict_processing('customer', %s, 'objection_pending', NULL, NULL, %s, '3')",
                     (str(a.id), other))
    own = conn.execute("SELECT gdpr.open_request('customer', %s, 'restriction', 'mitid', NULL, NULL, '3')",
                       (str(a.id),)).fetchone()[0]
    assert conn.execute("SELECT gdpr.restrict_processing('customer', %s, 'objection_pending', NULL, NULL, %s, '3')",
                        (str(a.id), own)).fetchone()[0] > 0
