"""The attacks of an outside review, one test each, as the persona that made them
(docs/rights.md, "Threat model"). Each performs the attack on a real server and
fails if the engine answers as it did before the fix. The personas and their two
clubs come from test_personas.world."""

from __future__ import annotations

import secrets
import time
import uuid

import psycopg
import pytest
from psycopg import errors, sql

from test_personas import MASK, as_role, world  # noqa: F401  (world is a fixture)


def random_cpr(birth: str) -> str:
    return birth + f"{secrets.randbelow(10000):04d}"


def export_values(conn, role: str, customer: int, section: str) -> list[str]:
    as_role(conn, role)
    try:
        return [r[0] for r in conn.execute(
            "SELECT value FROM gdpr.insight_rows('customer', %s) WHERE section = %s AND field = 'text' "
            "ORDER BY record", (str(customer), section))]
    finally:
        conn.execute("RESET ROLE")


# -- 1. guessing oracles -------------------------------------------------------------

def test_purpose_candidates_do_not_reveal_which_cpr_is_real(conn, world):
    """A receptionist writes 14 candidate CPR numbers (the real one among them) into
    the report's purpose and reads the access history back: whatever it can see is
    the same whichever candidate is the real one."""
    home = world["home"]
    role = world["personas"]["not_allowed"].role
    candidates = [random_cpr(home.cpr[:6]) for _ in range(13)] + [home.cpr]
    as_role(conn, role)
    conn.execute("SELECT gdpr.insight_report('customer', %s, NULL, %s)",
                 (str(home.id), "kandidater " + " ".join(candidates)))
    report = conn.execute("SELECT gdpr.insight_report('customer', %s)", (str(home.id),)).fetchone()[0]
    conn.execute("RESET ROLE")
    history = report["access_history"]
    assert [h["purpose"] for h in history] == ["note"]  # the second report is logged after it is built
    assert home.cpr not in repr(report) and not any(c in repr(report) for c in candidates)
    # the note kept for the admin masks every candidate alike: no candidate is singled out
    (note,) = conn.execute("SELECT n.note FROM gdpr.audit_note n JOIN gdpr.audit_event e ON e.id = n.event_id "
                           "WHERE e.subject_key = %s", (str(home.id),)).fetchone()
    assert note == "kandidater " + " ".join([MASK] * 14)


def test_export_masks_planted_candidates_alike(conn, world):
    """A writer plants log lines, each with one candidate (the real bank number or
    health value, or a fake of the same shape) and exports: the real value's line
    reads exactly like a fake's."""
    home = world["home"]
    role = world["personas"]["not_allowed"].role
    fake_bank = str(secrets.randbelow(9 * 10**9) + 10**9)
    fake_secret = f"helbred-{uuid.uuid4().hex[:12]}"
    lines = [f"kunde oplyste {home.bank_account} ved skranken", f"kunde oplyste {fake_bank} ved skranken",
             f"kunde nævnte {home.secret} i dag", f"kunde nævnte {fake_secret} i dag"]
    as_role(conn, role)
    for line in lines:
        conn.execute("INSERT INTO club_app.log_lines (customer_id, text) VALUES (%s, %s)", (home.id, line))
    conn.execute("RESET ROLE")
    exported = [v for v in export_values(conn, role, home.id, "club.log_lines") if v.startswith("kunde ")]
    by_line = dict(zip(lines, exported[-4:]))
    assert by_line[lines[0]] == by_line[lines[1]] == f"kunde oplyste {MASK} ved skranken"
    # each line reads exactly as the pattern alone renders it: no value of the subject's
    # is looked for, so the real value's line and the fake's are treated alike
    for line in lines:
        assert by_line[line] == conn.execute("SELECT gdpr.render_free_text(%s, 'not_allowed')",
                                             (line,)).fetchone()[0]


# -- 2. search-path hijack -----------------------------------------------------------

HIJACK = """
CREATE SCHEMA {schema} AUTHORIZATION {role};
SET ROLE {role};
CREATE FUNCTION {schema}.always(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR {schema}.= (LEFTARG = text, RIGHTARG = text, FUNCTION = {schema}.always);
CREATE FUNCTION {schema}.always(oid, oid) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR {schema}.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = {schema}.always);
CREATE FUNCTION {schema}.always(name, name) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR {schema}.= (LEFTARG = name, RIGHTARG = name, FUNCTION = {schema}.always);
CREATE FUNCTION {schema}.regexp_replace(text, text, text, text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT $1';
CREATE FUNCTION {schema}.substr(text, integer) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT ''1''';
SET search_path = {schema}, pg_catalog, public;
"""


@pytest.mark.parametrize("who", ["not_allowed", "other_club"])
def test_own_operators_earlier_in_the_search_path_change_nothing(conn, world, who):
    """A staff role with CREATE on a schema of its own defines "=" (text, oid, name)
    as always true and its own regexp_replace and substr, puts them first in its
    search_path and reads the views: still masked, still its own club only."""
    home = world["home"]
    role = world["personas"][who].role
    conn.execute(f"GRANT CREATE ON DATABASE {conn.info.dbname} TO {role}")
    schema = f"evil_{uuid.uuid4().hex[:8]}"
    conn.execute(HIJACK.format(schema=schema, role=role))
    row = conn.execute("SELECT cpr, bank_account FROM club_app.customers WHERE id = %s", (home.id,)).fetchone()
    note = conn.execute("SELECT count(*) FROM club_app.log_lines WHERE club_id = 1").fetchone()[0]
    clubs = {r[0] for r in conn.execute("SELECT DISTINCT club_id FROM club_app.customers")}
    conn.execute("RESET ROLE")
    conn.execute("RESET search_path")
    if who == "not_allowed":
        assert row == (MASK, MASK)
        assert clubs == {1}
    else:
        assert row is None and note == 0
        assert clubs == {2}


# -- 3. the anonymised state is the engine's ------------------------------------------

def test_writers_cannot_mark_a_live_customer_anonymised(conn, world):
    home = world["home"]
    as_role(conn, world["personas"]["not_allowed"].role)
    with pytest.raises(errors.InsufficientPrivilege, match="only the erasure"):
        conn.execute("UPDATE club_app.customers SET anonymized_at = now() WHERE id = %s", (home.id,))
    conn.execute("RESET ROLE")
    # even where the column was set by hand (a DBA, a restored row), erasure still erases
    conn.execute("UPDATE club.customers SET anonymized_at = now() WHERE id = %s", (home.id,))
    result = conn.execute("SELECT gdpr.anonymize('customer', %s, 'anmodning')", (str(home.id),)).fetchone()[0]
    assert result["status"] != "already_anonymized"
    assert conn.execute("SELECT cpr FROM club.customers WHERE id = %s", (home.id,)).fetchone()[0] is None


def test_an_erased_customer_cannot_be_typed_back_in(conn, world):
    home = world["home"]
    conn.execute("SELECT gdpr.anonymize('customer', %s, 'anmodning')", (str(home.id),))
    as_role(conn, world["personas"]["allowed"].role)
    for statement in ("UPDATE club_app.customers SET anonymized_at = NULL WHERE id = %s",
                      "UPDATE club_app.customers SET first_name = 'Mette', email = 'm@example.dk' WHERE id = %s"):
        with conn.transaction(force_rollback=True):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement, (home.id,))
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT first_name, email FROM club.customers WHERE id = %s",
                        (home.id,)).fetchone() != ("Mette", "m@example.dk")


# -- 4. support beyond its window -----------------------------------------------------

def test_support_loses_access_at_expiry_inside_an_open_transaction(conn, world, db_dsn):
    support = world["personas"]["support"].role
    conn.execute("INSERT INTO gdpr.support_grant (tenant, granted_by, expires_at) "
                 "VALUES ('1', 'test', clock_timestamp() + interval '2 seconds')")
    with psycopg.connect(db_dsn) as vendor:
        vendor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        vendor.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(support)))
        assert vendor.execute("SELECT count(*) FROM club_app.customers").fetchone()[0] > 0
        time.sleep(2.5)
        assert vendor.execute("SELECT count(*) FROM club_app.customers").fetchone()[0] == 0
        vendor.execute("ROLLBACK")


# -- 6. the audit trail and the proof as a channel ------------------------------------

def test_after_erasure_no_caller_text_about_the_subject_is_kept(conn, world):
    home = world["home"]
    conn.execute("SELECT gdpr.anonymize('customer', %s, 'anmodning')", (str(home.id),))
    as_role(conn, world["personas"]["not_allowed"].role)
    conn.execute("SELECT gdpr.insight_report('customer', %s, NULL, %s)",
                 (str(home.id), f"det var {home.last_name} {home.email} cpr {home.cpr}"))
    conn.execute("RESET ROLE")
    (purpose, noted) = conn.execute(
        "SELECT e.purpose, EXISTS (SELECT FROM gdpr.audit_note n WHERE n.event_id = e.id) FROM gdpr.audit_event e "
        "WHERE e.action = 'insight_report' AND e.subject_key = %s ORDER BY e.id DESC LIMIT 1",
        (str(home.id),)).fetchone()
    assert (purpose, noted) == ("note", False)
    everything = repr(conn.execute("SELECT e.*, n.note FROM gdpr.audit_event e "
                                   "LEFT JOIN gdpr.audit_note n ON n.event_id = e.id").fetchall())
    assert home.last_name not in everything and home.cpr not in everything and home.email not in everything
    assert conn.execute("SELECT gdpr.verify_erased('customer', %s)", (str(home.id),)).fetchone()[0]["verdict"] \
        == "erased"


def test_erasure_deletes_the_notes_written_about_the_subject(conn, world):
    home = world["home"]
    as_role(conn, world["personas"]["not_allowed"].role)
    conn.execute("SELECT gdpr.insight_report('customer', %s, NULL, %s)",
                 (str(home.id), f"opslag om {home.last_name}"))
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT count(*) FROM gdpr.audit_note WHERE subject_key = %s",
                        (str(home.id),)).fetchone()[0] == 1
    conn.execute("SELECT gdpr.anonymize('customer', %s, %s)", (str(home.id), f"anmodning fra {home.last_name}"))
    notes = [r[0] for r in conn.execute("SELECT note FROM gdpr.audit_note WHERE subject_key = %s", (str(home.id),))]
    assert notes == ["anmodning fra [anonymiseret]"]


# -- 7. catalog changes are audited --------------------------------------------------

def test_an_admin_turning_a_sensitive_flag_off_is_audited(conn, world):
    admin = f"dba_{uuid.uuid4().hex[:8]}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE pgdpr_admin").format(sql.Identifier(admin)))
    as_role(conn, admin)
    conn.execute("UPDATE gdpr.catalog_column SET sensitive = false "
                 "WHERE table_schema = 'club' AND table_name = 'customers' AND column_name = 'cpr'")
    conn.execute("RESET ROLE")
    event = conn.execute("SELECT actor, details FROM gdpr.audit_event WHERE action = 'catalog_column.update' "
                         "ORDER BY id DESC LIMIT 1").fetchone()
    assert event is not None and event[0] == admin
    assert event[1]["old"]["sensitive"] is True and event[1]["new"]["sensitive"] is False
    with pytest.raises(errors.InsufficientPrivilege):  # and the trail cannot be edited
        as_role(conn, admin)
        conn.execute("DELETE FROM gdpr.audit_event WHERE action = 'catalog_column.update'")


# -- 8. free-text spellings ----------------------------------------------------------

SPELLINGS = [
    "CPR2707524890", "cpr_270752-4890", "270752 4890", "27.07.52-4890", "270752–4890", "270752—4890",
    "2 7 0 7 5 2 4 8 9 0", "2707524890a", "270752-4890", "2707524890", "cpr: 27 07 52 48 90",
    "konto 1234-0012345678", "reg 1234 12345678", "4321 0012345678", "12340012345678",
    # spellings an outside review found after the first fix
    "270752\u00a04890", "270752,4890", "270752:4890", "270752+4890", "270752\t\t\t\t4890", "270752 - - 4890",
    "27071952-4890", "1952-07-27 4890", "reg.nr. 6054 kontonr. 760147977", "6054 760 147 977", "6054,760147977",
    "6054  -  760147977", "DK50 0040 0440 1162 43", "konto 3399-3625",
    # and from the review of the request notes
    "reg 1234 acct 12345678", "account 12345678", "4571123456789012", "4571-1234-5678-9012",
]


def test_every_cpr_and_account_spelling_is_masked_alike_in_views_and_export(conn, world):
    home = world["home"]
    allowed = world["personas"]["allowed"].role
    not_allowed = world["personas"]["not_allowed"].role
    as_role(conn, allowed)
    for spelling in SPELLINGS:
        conn.execute("INSERT INTO club_app.log_lines (customer_id, text) VALUES (%s, %s)",
                     (home.id, f"ringede om {spelling} i går"))
    conn.execute("RESET ROLE")
    as_role(conn, not_allowed)
    viewed = [r[0] for r in conn.execute(
        "SELECT text FROM club_app.log_lines WHERE customer_id = %s AND text LIKE 'ringede om %%' ORDER BY id",
        (home.id,))]
    conn.execute("RESET ROLE")
    exported = [v for v in export_values(conn, not_allowed, home.id, "club.log_lines") if v.startswith("ringede om")]
    assert len(viewed) == len(SPELLINGS)
    for spelling, shown in zip(SPELLINGS, viewed):
        digits = "".join(ch for ch in spelling if ch.isdigit())
        assert "".join(ch for ch in shown if ch.isdigit()) == "", (spelling, shown)
        assert MASK in shown, (spelling, shown)
        assert len(digits) >= 8
    assert sorted(viewed) == sorted(exported)  # one rendering for views and export


def test_phone_numbers_and_dates_in_free_text_stay_readable(conn):
    shown = conn.execute("SELECT gdpr.render_free_text(%s, 'not_allowed')",
                         ("ring +45 20 24 72 71 den 27.07.2026 kl. 14.30, ordre 123456",)).fetchone()[0]
    assert shown == "ring +45 20 24 72 71 den 27.07.2026 kl. 14.30, ordre 123456"


# -- 9. the login behind SET ROLE ----------------------------------------------------

def test_the_login_behind_set_role_is_recorded(conn, world):
    home = world["home"]
    role = world["personas"]["allowed"].role
    login = conn.execute("SELECT session_user").fetchone()[0]
    as_role(conn, role)
    conn.execute("SELECT gdpr.insight_report('customer', %s)", (str(home.id),))
    conn.execute("SELECT gdpr.grant_support_access('1', now() + interval '1 hour')")
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT actor, login FROM gdpr.audit_event WHERE action = 'insight_report' "
                        "ORDER BY id DESC LIMIT 1").fetchone() == (role, login)
    assert conn.execute("SELECT granted_by, granted_by_login FROM gdpr.support_grant "
                        "ORDER BY id DESC LIMIT 1").fetchone() == (role, login)


# -- 11. deleting through the views --------------------------------------------------

def test_a_customer_cannot_be_deleted_through_the_views(conn, world):
    home = world["home"]
    as_role(conn, world["personas"]["allowed"].role)
    with pytest.raises(errors.InsufficientPrivilege, match="removed by erasure"):
        conn.execute("DELETE FROM club_app.customers WHERE id = %s", (home.id,))
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT count(*) FROM club.customers WHERE id = %s", (home.id,)).fetchone()[0] == 1


def test_rows_kept_by_law_for_an_erased_customer_are_read_only(conn, world):
    home = world["home"]
    conn.execute("SELECT gdpr.anonymize('customer', %s, 'anmodning')", (str(home.id),))
    kept = conn.execute("SELECT count(*) FROM club.account_movements WHERE customer_id = %s", (home.id,)).fetchone()[0]
    assert kept > 0
    as_role(conn, world["personas"]["allowed"].role)
    for statement in ("UPDATE club_app.account_movements SET amount = 0 WHERE customer_id = %s",
                      "DELETE FROM club_app.account_movements WHERE customer_id = %s"):
        with conn.transaction(force_rollback=True):
            with pytest.raises(errors.InsufficientPrivilege, match="read-only"):
                conn.execute(statement, (home.id,))
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT count(*) FROM club.account_movements WHERE customer_id = %s",
                        (home.id,)).fetchone()[0] == kept


# -- 12. rights stay in their club; tenant keys are canonical -------------------------

def test_another_clubs_group_gives_no_rights_in_ones_own_club(conn, world):
    home = world["home"]
    not_allowed = world["personas"]["not_allowed"].role
    other_group = conn.execute("SELECT group_role FROM gdpr.staff_group WHERE tenant = '2'").fetchone()[0]
    conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(other_group), sql.Identifier(not_allowed)))
    as_role(conn, not_allowed)
    assert conn.execute("SELECT cpr FROM club_app.customers WHERE id = %s", (home.id,)).fetchone()[0] == MASK
    report = conn.execute("SELECT gdpr.insight_report('customer', %s)", (str(home.id),)).fetchone()[0]
    conn.execute("RESET ROLE")
    assert home.cpr not in repr(report)


@pytest.mark.parametrize("key", ["01", "1.0", " 1", "999"])
def test_a_club_key_is_refused_unless_it_is_the_clubs_own(conn, world, key):
    with pytest.raises(errors.InvalidParameterValue):
        conn.execute("SELECT gdpr.create_staff_group(%s, %s)", (key, f"grp_{uuid.uuid4().hex[:8]}"))


def test_a_hold_reason_is_kept_with_its_numbers_masked(conn, world):
    """A writer places a hold whose reason quotes a CPR and a bank number; a
    receptionist lists the holds: both read 'kræver login'."""
    home = world["home"]
    as_role(conn, world["personas"]["not_allowed"].role)
    conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'debt', %s)",
                 (str(home.id), f"gæld, cpr {home.cpr}, konto 6054 {home.bank_account}"))
    conn.execute("RESET ROLE")
    as_role(conn, world["personas"]["hidden"].role)
    reasons = [r[0] for r in conn.execute("SELECT reason FROM gdpr.active_legal_holds('customer')")]
    conn.execute("RESET ROLE")
    assert reasons == [f"gæld, cpr {MASK}, konto {MASK}"]


# -- 13. files holding personal data -------------------------------------------------

def test_every_file_holding_personal_data_is_written_0600(conn, run_cli, tmp_path):
    import os
    from factory import make_club, make_customer
    make_club(conn, 1)
    customer = make_customer(conn, 1)
    old_umask = os.umask(0o022)
    try:
        existing = tmp_path / "old.csv"
        existing.write_text("x")
        existing.chmod(0o644)
        runs = [("report", str(customer.id), "-o", str(tmp_path / "k.html")),
                ("export", str(customer.id), "-o", str(tmp_path / "k.csv")),
                ("export", str(customer.id), "--zip", "-o", str(tmp_path / "k.zip")),
                ("export", str(customer.id), "-o", str(existing))]
        for args in runs:
            result = run_cli(*args)
            assert result.exit_code == 0, (args, result.output)
    finally:
        os.umask(old_umask)
    for name in ("k.html", "k.csv", "k.zip", "old.csv"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name
