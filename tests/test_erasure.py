"""Erasure (issue 4): gdpr.anonymize / anonymize_many, what anonymised means, the proof,
the bookings race, legal holds, deferred erasure, the audit trail, and who may erase."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from psycopg import errors

from factory import make_club, make_customer

TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "name")


def anonymize(conn, customer, reason="kunden bad om det", **kw):
    args = ", ".join(f"{k} => %({k})s" for k in kw)
    sql = f"SELECT gdpr.anonymize('customer', %(key)s, %(reason)s{', ' + args if args else ''})"
    return conn.execute(sql, {"key": str(customer.id), "reason": reason, **kw}).fetchone()[0]


def text_hits(conn, values, exclude_retained_of=None):
    """Independent of the engine: every text/json column of every user table, searched
    case-insensitively for each value. Returns [(table, column, value)]."""
    columns = conn.execute(
        """SELECT c.table_schema, c.table_name, c.column_name
             FROM information_schema.columns c
             JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE t.table_type = 'BASE TABLE'
              AND c.table_schema NOT IN ('pg_catalog', 'information_schema', 'cron')
              AND c.data_type = ANY (%s)""", (list(TEXT_TYPES),)).fetchall()
    hits = []
    for schema, table, column in columns:
        where = ""
        if exclude_retained_of is not None and (schema, table) == ("club", "account_movements"):
            where = f" AND customer_id <> {int(exclude_retained_of)}"
        for value in values:
            n = conn.execute(f'SELECT count(*) FROM "{schema}"."{table}" WHERE "{column}"::text ILIKE %s{where}',
                             (f"%{value}%",)).fetchone()[0]
            if n:
                hits.append((f"{schema}.{table}", column, value))
    return hits


def snapshot(conn, club_id, customer_id):
    """Every row of every customer-linked table for one customer (for 'nothing else changed')."""
    rows = {}
    for table in ("customers", "class_enrollments", "account_movements", "table_bookings", "reservations",
                  "activities", "log_lines", "consents", "notes", "custom_field_values"):
        key = "id" if table == "customers" else "customer_id"
        rows[table] = conn.execute(
            f"SELECT to_jsonb(t) FROM club.{table} t WHERE club_id = %s AND {key} = %s ORDER BY 1::text",
            (club_id, customer_id)).fetchall()
    return rows


def make_staff(conn, club: int, *roles: str) -> str:
    name = f"staff_{club}_{uuid.uuid4().hex[:8]}"
    conn.execute(f"SELECT gdpr.ensure_tenant_role('{club}')")
    conn.execute(f'CREATE ROLE "{name}" NOLOGIN')
    conn.execute(f'GRANT pgdpr_tenant_{club}, {", ".join(roles) or "pgdpr_staff"} TO "{name}"')
    return name


def blocked_call(observer, session, sql, params, holder, what: str) -> dict:
    """Run `sql` on `session` (autocommit) in a thread while `holder` keeps its
    transaction open; assert that the call comes to wait for a lock (watched from
    `observer`), then commit `holder`. Returns {"rows": ...} or {"error": exception}."""
    outcome = {}

    def call():
        try:
            outcome["rows"] = session.execute(sql, params).fetchall()
        except psycopg.Error as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=call)
    thread.start()
    deadline, waiting = time.monotonic() + 5.0, False
    while not waiting and time.monotonic() < deadline:
        waiting = observer.execute("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                                   (session.info.backend_pid,)).fetchone()[0]
        time.sleep(0.05)
    holder.commit()
    thread.join(10)
    assert waiting, f"{what} should wait for the other session"
    return outcome


@pytest.fixture
def club(conn):
    make_club(conn, 1)
    make_club(conn, 2)
    return conn


def test_anonymize_erases_everything_and_proves_it(club):
    conn = club
    other = make_customer(conn, 1, first_name="Mette")
    other_club = make_customer(conn, 2, first_name="Ingeborg")
    subject = make_customer(conn, 1, first_name="Ingeborg", last_name="Ørnsholt-Bæk", rows_per_table=3)
    compact_phone, dashed_cpr = subject.phone.replace(" ", ""), f"{subject.cpr[:6]}-{subject.cpr[6:]}"
    conn.execute("INSERT INTO club.log_lines (club_id, customer_id, text) VALUES (1, %s, %s)",
                 (subject.id, f"sms til {compact_phone}; cpr {dashed_cpr}; ringede: {subject.phone[:6]} "
                              f"{subject.phone[6:]}"))
    before_other = snapshot(conn, 1, other.id)
    before_other_club = snapshot(conn, 2, other_club.id)

    summary = anonymize(conn, subject)

    assert summary["status"] == "anonymized"
    assert summary["proof"] == {"verdict": "erased", "hits": 0, "places": [], "unsearched": [],
                                "searched": summary["proof"]["searched"]}
    assert summary["proof"]["searched"] > 20
    tables = summary["tables"]
    assert tables["club.customers"]["anonymized"] == 1
    assert tables["club.addresses"]["deleted"] == 1
    for t in ("class_enrollments", "table_bookings", "reservations", "activities", "notes"):
        assert tables[f"club.{t}"]["deleted"] == 3, t
    assert tables["club.consents"]["deleted"] == 2
    assert tables["club.custom_field_values"]["deleted"] == 2
    assert tables["club.log_lines"]["anonymized"] == 4
    assert conn.execute("SELECT text FROM club.log_lines WHERE text LIKE 'sms til%%'").fetchone()[0] == \
        "sms til [anonymiseret]; cpr [anonymiseret]; ringede: [anonymiseret]"
    assert tables["club.account_movements"]["retained"] == 3
    assert summary["deferred"][0]["table"] == "club.account_movements"

    row = conn.execute("""SELECT first_name, last_name, email, phone, cpr, bank_reg, bank_account, photo,
                                 member_card, key_fob, address_id, anonymized_at IS NOT NULL,
                                 birth_date IS NULL, member_since = date_trunc('year', member_since)::date,
                                 customer_no <> %s AND customer_no ~ '^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$'
                            FROM club.customers WHERE id = %s""", (subject.customer_no, subject.id)).fetchone()
    assert row == ("Anonymiseret", "Anonymiseret", None, None, None, None, None, None, None, None, None,
                   True, True, True, True)
    # retained accounting rows keep amount, date and payment reference (Bogføringsloven), lose the text's values
    movements = conn.execute("SELECT amount, text, payment_reference FROM club.account_movements "
                             "WHERE customer_id = %s", (subject.id,)).fetchall()
    assert len(movements) == 3
    assert all(m[0] == -299 and m[2].startswith("PAY-") and "Ingeborg" not in m[1] for m in movements)
    logs = conn.execute("SELECT text FROM club.log_lines WHERE customer_id = %s", (subject.id,)).fetchall()
    assert len(logs) == 4 and sum(t.startswith("[anonymiseret] ringede fra [anonymiseret]") for (t,) in logs) == 3

    verdict = conn.execute("SELECT gdpr.verify_erased('customer', %s)", (str(subject.id),)).fetchone()[0]
    assert verdict["verdict"] == "erased" and verdict["hits"] == 0
    values = [f"{subject.first_name} {subject.last_name}", subject.last_name, subject.email, subject.phone,
              subject.cpr, subject.customer_no, subject.secret_field]
    assert text_hits(conn, values, exclude_retained_of=subject.id) == []
    # even the retained rows hold none of them
    assert text_hits(conn, values) == []
    # nobody else was touched (the other customer shares the first name Mette/Ingeborg pattern)
    assert snapshot(conn, 1, other.id) == before_other
    assert snapshot(conn, 2, other_club.id) == before_other_club
    audit = conn.execute("SELECT actor, tenant, subject_key, purpose, details->>'category' FROM gdpr.audit_event "
                         "WHERE action = 'anonymize'").fetchall()
    assert audit == [("postgres", "1", str(subject.id), "note", "request")]  # the reason is a note
    assert conn.execute("SELECT note FROM gdpr.audit_note").fetchall() == [("kunden bad om det",)]
    ledger = conn.execute("SELECT kind, tenant, subject_key, reason_category FROM gdpr.erasure_ledger").fetchall()
    assert ledger == [("customer", "1", str(subject.id), "request")]


def test_reason_is_stored_without_the_subjects_values(club):
    conn = club
    subject = make_customer(conn, 1, first_name="Gudrun")
    anonymize(conn, subject, reason=f"Gudrun {subject.last_name} ringede fra {subject.phone}")
    (purpose, note) = conn.execute("SELECT e.purpose, n.note FROM gdpr.audit_event e JOIN gdpr.audit_note n "
                                   "ON n.event_id = e.id WHERE e.action = 'anonymize'").fetchone()
    assert purpose == "note"
    assert "Gudrun" not in note and subject.phone not in note and "ringede fra" in note


def test_second_call_is_a_no_op(club):
    conn = club
    subject = make_customer(conn, 1)
    anonymize(conn, subject)
    after_first = snapshot(conn, 1, subject.id)
    again = anonymize(conn, subject)
    assert again == {"status": "already_anonymized", "kind": "customer", "tenant": "1",
                     "subject_key": str(subject.id)}
    assert snapshot(conn, 1, subject.id) == after_first
    assert conn.execute("SELECT count(*) FROM gdpr.erasure_ledger").fetchone()[0] == 1


def test_unknown_subject_and_other_club_read_the_same(club):
    conn = club
    staff = make_staff(conn, 2, "pgdpr_staff", "pgdpr_erasure")
    subject = make_customer(conn, 1)
    conn.execute(f'SET ROLE "{staff}"')
    with pytest.raises(errors.NoDataFound) as other_club:
        anonymize(conn, subject)
    with pytest.raises(errors.NoDataFound) as unknown:
        conn.execute("SELECT gdpr.anonymize('customer', '987654', 'x')")
    assert other_club.value.diag.message_primary == f"customer {subject.id} not found in club 2"
    assert unknown.value.diag.message_primary == "customer 987654 not found in club 2"
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT gdpr.anonymize('customer', %s, 'x', '1')", (str(subject.id),))
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT anonymized_at FROM club.customers WHERE id = %s", (subject.id,)).fetchone()[0] is None


def test_who_may_erase(club):
    conn = club
    subject = make_customer(conn, 1)
    plain_staff = make_staff(conn, 1, "pgdpr_staff")
    eraser = make_staff(conn, 1, "pgdpr_staff", "pgdpr_erasure")
    nobody = f"nobody_{uuid.uuid4().hex[:8]}"
    conn.execute(f'CREATE ROLE "{nobody}" NOLOGIN')
    for role in (plain_staff, nobody):
        conn.execute(f'SET ROLE "{role}"')
        for sql in ("SELECT gdpr.anonymize('customer', %s, 'x')",
                    "SELECT * FROM gdpr.anonymize_many('customer', '1', ARRAY[%s], 'x')",
                    "SELECT gdpr.verify_erased('customer', %s)",
                    "SELECT gdpr.erasure_preview('customer', %s)",
                    "SELECT gdpr.clear_legal_hold(%s::bigint)",
                    "SELECT * FROM gdpr.ledger_export() WHERE subject_key = %s",
                    "SELECT * FROM gdpr.ledger_replay('[]'::jsonb || jsonb_build_array(%s::text), true)",
                    "SELECT gdpr.process_deferred_erasures() WHERE %s::text IS NOT NULL",
                    "SELECT * FROM gdpr.erase_batch('customer', '1', ARRAY[%s], 'x', NULL, 'request')",
                    "SELECT gdpr.install_salt() WHERE %s::text IS NOT NULL",
                    "SELECT salt FROM gdpr.install_secret WHERE %s::text IS NOT NULL",
                    "SELECT * FROM gdpr.erasure_proof WHERE subject_key = %s",
                    "SELECT * FROM gdpr.erasure_proof_scope WHERE kind = %s",
                    "SELECT * FROM gdpr.legal_hold WHERE subject_key = %s",
                    "SELECT * FROM gdpr.erasure_ledger WHERE subject_key = %s"):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql, (str(subject.id),))
        conn.execute("RESET ROLE")
    # pgdpr_admin may erase, but not read the install secret
    conn.execute("SET ROLE pgdpr_admin")
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT salt FROM gdpr.install_secret")
    conn.execute("RESET ROLE")
    conn.execute(f'SET ROLE "{eraser}"')
    summary = anonymize(conn, subject)
    conn.execute("RESET ROLE")
    assert summary["status"] == "anonymized" and summary["proof"]["verdict"] == "erased"
    actor = conn.execute("SELECT actor FROM gdpr.audit_event WHERE action = 'anonymize'").fetchone()[0]
    assert actor == eraser


def test_bookings_race(club, db_dsn):
    """An anonymisation holds the subject row; a booking inserted meanwhile waits, then
    fails with a clear error. A booking that landed before is erased with the rest."""
    conn = club
    subject = make_customer(conn, 1)
    conn.execute("SELECT gdpr.install_erasure_guards()")  # as `pgdpr migrate` does
    insert = ("INSERT INTO club.table_bookings (club_id, customer_id, booked_for, party_size, note) "
              "VALUES (1, %s, now() + interval '1 day', 2, 'late booking')")
    conn.execute(insert, (subject.id,))  # lands before: must be erased too

    with psycopg.connect(db_dsn) as eraser, psycopg.connect(db_dsn, autocommit=True) as booker:
        eraser.execute("SELECT gdpr.anonymize('customer', %s, 'race')", (str(subject.id),))
        outcome = blocked_call(conn, booker, insert, (subject.id,), eraser, "the booking")
    error = outcome["error"]
    assert isinstance(error, errors.CheckViolation)
    assert f"customer {subject.id} is anonymised" in str(error)
    assert conn.execute("SELECT count(*) FROM club.table_bookings WHERE customer_id = %s",
                        (subject.id,)).fetchone()[0] == 0
    # other customers still book as usual
    other = make_customer(conn, 1)
    conn.execute(insert, (other.id,))


def test_a_log_line_written_during_the_erasure_is_scrubbed(club, db_dsn):
    """A log line that another session is changing (to name the customer) when the
    erasure reaches it: the erasure waits for that session, then scrubs what it
    committed. (Every row of the subject is rewritten, never skipped for looking clean
    in the erasure's snapshot: a skipped row would not be waited for.)"""
    conn = club
    conn.execute("SELECT gdpr.install_erasure_guards()")  # as `pgdpr migrate` does: no DDL wait below
    subject = make_customer(conn, 1, first_name="Ingeborg", last_name="Ørnsholt")
    line = conn.execute("INSERT INTO club.log_lines (club_id, customer_id, text) "
                        "VALUES (1, %s, 'intet her') RETURNING id", (subject.id,)).fetchone()[0]
    with psycopg.connect(db_dsn) as writer, psycopg.connect(db_dsn, autocommit=True) as eraser:
        writer.execute("UPDATE club.log_lines SET text = 'ringede: Ingeborg Ørnsholt' WHERE id = %s", (line,))
        outcome = blocked_call(conn, eraser, "SELECT gdpr.anonymize('customer', %s, 'race')", (str(subject.id),),
                               writer, "the erasure")
    assert "error" not in outcome, outcome
    assert outcome["rows"][0][0]["proof"]["verdict"] == "erased"
    assert conn.execute("SELECT text FROM club.log_lines WHERE id = %s", (line,)).fetchone()[0] == \
        "ringede: [anonymiseret]"


def test_personal_columns_of_an_erased_customers_rows_stay_erased(club):
    """After the erasure, an UPDATE that writes a declared column (or the link column)
    of a row of the erased customer is refused: no name typed back into a log line, no
    payment reference on a kept movement, no row re-pointed at the erased customer.
    Other columns, and other customers' rows, are updated as usual."""
    conn = club
    conn.execute("SELECT gdpr.install_erasure_guards()")
    subject = make_customer(conn, 1, first_name="Ingeborg", last_name="Ørnsholt")
    other = make_customer(conn, 1)
    anonymize(conn, subject)
    refused = [
        ("UPDATE club.log_lines SET text = 'ringede: Ingeborg Ørnsholt' WHERE customer_id = %s", subject.id,
         "club.log_lines"),
        ("UPDATE club.account_movements SET payment_reference = 'FIK-71-1234' WHERE customer_id = %s", subject.id,
         "club.account_movements"),
        (f"UPDATE club.log_lines SET customer_id = {subject.id} WHERE customer_id = %s", other.id, "club.log_lines"),
    ]
    for sql, key, table in refused:
        with pytest.raises(errors.CheckViolation) as caught, conn.transaction():
            conn.execute(sql, (key,))
        assert f"customer {subject.id} is anonymised: changes to its rows in {table} are refused" in str(caught.value)
    kept = conn.execute("SELECT count(*) FROM club.log_lines WHERE customer_id = %s", (subject.id,)).fetchone()[0]
    assert conn.execute("UPDATE club.log_lines SET written_at = written_at - interval '1 day' "
                        "WHERE customer_id = %s", (subject.id,)).rowcount == kept > 0
    assert conn.execute("UPDATE club.log_lines SET text = text || ' (set)' WHERE customer_id = %s",
                        (other.id,)).rowcount > 0
    assert text_hits(conn, ["Ingeborg", "Ørnsholt"], exclude_retained_of=subject.id) == []


def test_an_update_racing_the_erasure_is_refused_after_it(club, db_dsn):
    """An erasure in progress holds the subject: another session's update of a log
    line of that customer waits, and once the erasure commits it is refused."""
    conn = club
    conn.execute("SELECT gdpr.install_erasure_guards()")
    subject = make_customer(conn, 1, first_name="Ingeborg", last_name="Ørnsholt")
    with psycopg.connect(db_dsn) as eraser, psycopg.connect(db_dsn, autocommit=True) as writer:
        eraser.execute("SELECT gdpr.anonymize('customer', %s, 'race')", (str(subject.id),))
        outcome = blocked_call(conn, writer, "UPDATE club.log_lines SET text = 'ringede: Ingeborg Ørnsholt' "
                               "WHERE customer_id = %s", (subject.id,), eraser, "the update")
    assert isinstance(outcome.get("error"), errors.CheckViolation), outcome
    assert text_hits(conn, ["Ingeborg", "Ørnsholt"], exclude_retained_of=subject.id) == []


VIA_SCHEMA = """
    CREATE SCHEMA shop;
    CREATE TABLE shop.people (handle text PRIMARY KEY, full_name text, erased_at timestamptz);
    CREATE TABLE shop.orders (id int PRIMARY KEY, order_no text UNIQUE NOT NULL, person text REFERENCES shop.people,
                              note text);
    CREATE TABLE shop.order_lines (id int PRIMARY KEY, order_no text REFERENCES shop.orders (order_no)
                                       ON UPDATE CASCADE, comment text);
    INSERT INTO shop.people VALUES ('x', 'Asger Bøgh', NULL), ('y', 'Carla Holm', NULL);
    INSERT INTO shop.orders VALUES (10, 'A-10', 'x', 'Ring til Asger'), (11, 'A-11', 'x', NULL), (20, 'A-20', 'y', 'Carla');
    INSERT INTO shop.order_lines VALUES (100, 'A-10', 'gave'), (200, 'A-20', 'til Asger Bøgh'), (300, 'A-20', 'kort');
    SELECT gdpr.declare_subject('buyer', 'shop', 'people', 'handle', NULL, ARRAY['full_name']::name[], 'erased_at', 'shop');
    SELECT gdpr.declare_table('shop', 'people', 'buyer', 'root', 'anonymize', 'K', 'B', 'sales', 'contract', '3 years');
    SELECT gdpr.declare_column('shop', 'people', 'full_name', 'name', 'constant', false, 'Anonymiseret');
    SELECT gdpr.declare_table('shop', 'orders', 'buyer', 'direct', 'anonymize', 'O', 'O', 'sales', 'contract',
                              '5 years', p_link_column => 'person');
    SELECT gdpr.declare_column('shop', 'orders', 'note', 'free_text', 'redact');
    SELECT gdpr.declare_table('shop', 'order_lines', 'buyer', 'via', 'anonymize', 'L', 'L', 'sales', 'contract',
                              '5 years', p_link_column => 'order_no', p_parent_schema => 'shop',
                              p_parent_table => 'orders', p_parent_column => 'order_no');
    SELECT gdpr.declare_column('shop', 'order_lines', 'comment', 'free_text', 'redact');
    SELECT gdpr.install_erasure_guards();
"""


def test_via_rows_cannot_be_moved_onto_an_erased_subject(conn, db_dsn):
    """A via table (order lines, linked to the buyer through their order): a line moved
    onto the order of a buyer being erased waits for the erasure and is refused (the
    guard locks the buyer: the line's foreign key locks only the order). Afterwards
    neither a line nor an order's number can be moved onto the erased buyer."""
    conn.execute(VIA_SCHEMA)
    with psycopg.connect(db_dsn) as eraser, psycopg.connect(db_dsn, autocommit=True) as writer:
        eraser.execute("SELECT gdpr.anonymize('buyer', 'x', 'race')")
        outcome = blocked_call(conn, writer, "UPDATE shop.order_lines SET order_no = 'A-10' WHERE id = 200", None,
                               eraser, "the move")
    assert isinstance(outcome.get("error"), errors.CheckViolation), outcome
    assert "buyer x is anonymised: changes to its rows in shop.order_lines are refused" in str(outcome["error"])
    for sql in ("UPDATE shop.order_lines SET order_no = 'A-10' WHERE id = 300",
                "UPDATE shop.order_lines SET comment = 'Asger' WHERE id = 100",
                # a new number for the erased buyer's order (the first step of handing it
                # to another buyer's lines)
                "UPDATE shop.orders SET order_no = 'A-99' WHERE id = 10",
                "UPDATE shop.orders SET order_no = 'A-12' WHERE id = 11"):  # no lines: the order's own guard
        with pytest.raises(errors.CheckViolation), conn.transaction():
            conn.execute(sql)
    assert conn.execute("UPDATE shop.order_lines SET comment = 'kort (ny)' WHERE id = 300").rowcount == 1
    assert conn.execute("UPDATE shop.orders SET order_no = 'A-21' WHERE id = 20").rowcount == 1  # cascades
    assert conn.execute("SELECT gdpr.verify_erased('buyer', 'x')").fetchone()[0]["verdict"] == "erased"


def test_legal_hold_blocks_force_is_audited(club):
    conn = club
    subject = make_customer(conn, 1)
    staff = make_staff(conn, 1, "pgdpr_staff")
    conn.execute(f'SET ROLE "{staff}"')
    hold_id = conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'doping', 'sag 2026-17')",
                           (str(subject.id),)).fetchone()[0]
    holds = conn.execute("SELECT id, hold_type, created_by FROM gdpr.active_legal_holds('customer')").fetchall()
    conn.execute("RESET ROLE")
    assert holds == [(hold_id, "doping", staff)]

    with pytest.raises(errors.ObjectInUse, match=rf"legal hold #{hold_id} \(doping\)"):
        anonymize(conn, subject)
    rows = conn.execute("SELECT * FROM gdpr.anonymize_many('customer', '1', ARRAY[%s], 'rule', 3)",
                        (str(subject.id),)).fetchall()
    assert rows == [(str(subject.id), "held", {})]
    assert conn.execute("SELECT anonymized_at FROM club.customers WHERE id = %s", (subject.id,)).fetchone()[0] is None

    summary = anonymize(conn, subject, p_force=True)
    assert summary["status"] == "anonymized" and summary["forced"] is True
    forced = conn.execute("SELECT actor, details FROM gdpr.audit_event WHERE action = 'anonymize_forced'").fetchone()
    assert forced[0] == "postgres" and forced[1]["holds"][0]["id"] == hold_id
    assert conn.execute("SELECT reason_category FROM gdpr.erasure_ledger").fetchone()[0] == "forced"
    actions = [a for (a,) in conn.execute("SELECT action FROM gdpr.audit_event WHERE kind = 'customer' ORDER BY id")]
    assert actions[:1] == ["legal_hold_set"] and "anonymize_skipped_hold" in actions


def test_expired_and_cleared_holds_do_not_block(club):
    conn = club
    expired, cleared = make_customer(conn, 1), make_customer(conn, 1)
    with pytest.raises(errors.InvalidParameterValue):
        conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'debt', 'x', now() - interval '1 day')",
                     (str(expired.id),))
    # a hold that expired since it was set
    conn.execute("""INSERT INTO gdpr.legal_hold (kind, tenant, subject_key, hold_type, reason, created_by, until)
                    VALUES ('customer', '1', %s, 'debt', 'gammel gæld', 'postgres', now() - interval '1 day')""",
                 (str(expired.id),))
    hold = conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'litigation', 'sag', now() + interval '1 year')",
                        (str(cleared.id),)).fetchone()[0]
    eraser = make_staff(conn, 1, "pgdpr_staff", "pgdpr_erasure")
    conn.execute(f'SET ROLE "{eraser}"')
    conn.execute("SELECT gdpr.clear_legal_hold(%s)", (hold,))
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT cleared_by FROM gdpr.legal_hold WHERE id = %s", (hold,)).fetchone()[0] == eraser
    assert anonymize(conn, expired)["forced"] is False
    rows = conn.execute("SELECT * FROM gdpr.anonymize_many('customer', '1', ARRAY[%s], 'r')",
                        (str(cleared.id),)).fetchall()
    assert rows == [(str(cleared.id), "anonymized", {"proof": "erased", "proof_hits": 0})]
    assert conn.execute("SELECT count(*) FROM gdpr.audit_event WHERE action = 'legal_hold_cleared'").fetchone()[0] == 1


def test_anonymize_many_isolates_a_failing_subject(club):
    conn = club
    a, bad, b, done = (make_customer(conn, 1) for _ in range(4))
    anonymize(conn, done)
    conn.execute(f"""CREATE FUNCTION pg_temp.fail() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN IF NEW.customer_id = {bad.id} THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$""")
    conn.execute("CREATE TRIGGER fail BEFORE UPDATE ON club.log_lines FOR EACH ROW EXECUTE FUNCTION pg_temp.fail()")
    before_bad = snapshot(conn, 1, bad.id)
    rows = conn.execute("SELECT * FROM gdpr.anonymize_many('customer', '1', %s, 'rule 9', 9)",
                        ([str(a.id), str(bad.id), str(b.id), str(done.id), "424242", "x"],)).fetchall()
    outcome = {k: (o, d) for k, o, d in rows}
    assert outcome[str(a.id)] == ("anonymized", {"proof": "erased", "proof_hits": 0})
    assert outcome[str(b.id)] == ("anonymized", {"proof": "erased", "proof_hits": 0})
    assert outcome[str(bad.id)][0] == "failed" and outcome[str(bad.id)][1]["sqlstate"] == "P0001"
    assert outcome[str(done.id)][0] == "already_anonymized"
    assert outcome["424242"][0] == "not_found" and outcome["x"][0] == "not_found"
    assert snapshot(conn, 1, bad.id) == before_bad  # nothing half-done
    ledger = conn.execute("SELECT subject_key, rule_id, reason_category FROM gdpr.erasure_ledger "
                          "WHERE rule_id = 9 ORDER BY 1").fetchall()
    assert sorted(ledger) == sorted([(str(a.id), 9, "rule"), (str(b.id), 9, "rule")])
    for s in (a, b):
        assert conn.execute("SELECT gdpr.verify_erased('customer', %s)", (str(s.id),)).fetchone()[0]["hits"] == 0


def test_anonymize_many_is_one_statement_per_table(club):
    """Set-based: a batch of 30 runs the same number of statements as a batch of 1."""
    conn = club
    subjects = [make_customer(conn, 1, rows_per_table=1) for _ in range(31)]
    counts = []
    for batch in ([subjects[0]], subjects[1:]):
        calls = "SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions WHERE funcname = 'erase_batch'"
        with conn.transaction():
            conn.execute("SET LOCAL track_functions = 'all'")
            before = conn.execute(calls).fetchone()[0]
            rows = conn.execute("SELECT * FROM gdpr.anonymize_many('customer', '1', %s, 'r')",
                                ([str(s.id) for s in batch],)).fetchall()
            counts.append(conn.execute(calls).fetchone()[0] - before)
        assert {o for _, o, _ in rows} == {"anonymized"}
    assert counts == [1, 1]


def test_deferred_erasure(club):
    conn = club
    subject, other = make_customer(conn, 1), make_customer(conn, 1)
    conn.execute("UPDATE club.account_movements SET booked_at = '2020-03-01' WHERE customer_id = %s", (subject.id,))
    anonymize(conn, subject)
    pending = conn.execute("SELECT subject_key, table_name, rows_pending, "
                           "timezone('Europe/Copenhagen', next_due_at)::date::text "
                           "FROM gdpr.pending_deferred_erasures()").fetchall()
    assert pending == [(str(subject.id), "club.account_movements", 2, "2026-01-01")]
    staff2 = make_staff(conn, 2, "pgdpr_staff")
    conn.execute(f'SET ROLE "{staff2}"')
    assert conn.execute("SELECT count(*) FROM gdpr.pending_deferred_erasures()").fetchone()[0] == 0
    conn.execute("RESET ROLE")
    result = conn.execute("SELECT gdpr.process_deferred_erasures('2025-12-31')").fetchone()[0]
    assert result["tables"] == {}
    result = conn.execute("SELECT gdpr.process_deferred_erasures()").fetchone()[0]
    assert result["tables"] == {"club.account_movements": 2} and result["subjects_done"] == 1
    assert conn.execute("SELECT count(*) FROM club.account_movements WHERE customer_id = %s",
                        (subject.id,)).fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM club.account_movements WHERE customer_id = %s",
                        (other.id,)).fetchone()[0] == 2
    assert conn.execute("SELECT count(*) FROM gdpr.pending_deferred_erasures()").fetchone()[0] == 0


def test_proof_finds_what_the_catalog_missed(club):
    """A table the catalog does not know, linked to the customer by a foreign key."""
    conn = club
    subject = make_customer(conn, 1, first_name="Sigrid")
    conn.execute("""CREATE TABLE club.lockers (club_id bigint, customer_id bigint, label text,
                    FOREIGN KEY (club_id, customer_id) REFERENCES club.customers)""")
    conn.execute("GRANT SELECT ON club.lockers TO pgdpr_owner")
    conn.execute("INSERT INTO club.lockers VALUES (1, %s, %s)", (subject.id, f"Skab: {subject.email}"))
    summary = anonymize(conn, subject)
    assert summary["proof"]["verdict"] == "not_erased"
    assert summary["proof"]["places"] == [{"table": "club.lockers", "column": "label", "hits": 1}]
    assert summary["proof"]["unsearched"] == [{
        "place": "club.lockers", "why": "not in the catalog, linked by a foreign key to the subject's rows: 1 rows"}]


def test_audit_trail_is_append_only_for_everyone(club):
    conn = club
    subject = make_customer(conn, 1)
    anonymize(conn, subject)
    for role in (None, "pgdpr_owner", "pgdpr_admin"):
        if role:
            conn.execute(f"SET ROLE {role}")
        for sql in ("UPDATE gdpr.audit_event SET actor = 'x'", "DELETE FROM gdpr.audit_event",
                    "TRUNCATE gdpr.audit_event CASCADE"):
            with pytest.raises((errors.InsufficientPrivilege,)):
                conn.execute(sql)
        conn.execute("RESET ROLE")
    # not even with triggers switched off for replication
    conn.execute("SET session_replication_role = replica")
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("DELETE FROM gdpr.audit_event")
    conn.execute("RESET session_replication_role")
    assert conn.execute("SELECT count(*) FROM gdpr.audit_event").fetchone()[0] >= 1


def test_erasure_preview(club):
    conn = club
    subject = make_customer(conn, 1)
    conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'debt', 'skylder 300 kr')", (str(subject.id),))
    preview = conn.execute("SELECT gdpr.erasure_preview('customer', %s)", (str(subject.id),)).fetchone()[0]
    actions = {t["table"]: (t["action"], t["rows"]) for t in preview["tables"]}
    assert actions["club.account_movements"] == ("retain", 2)
    assert actions["club.log_lines"] == ("anonymize", 2)
    assert actions["club.notes"] == ("delete", 2)
    assert preview["holds"][0]["hold_type"] == "debt" and preview["already_anonymized"] is False
    assert conn.execute("SELECT anonymized_at FROM club.customers WHERE id = %s", (subject.id,)).fetchone()[0] is None


def test_guard_function_cannot_be_borrowed(club):
    """The guard runs its trigger argument as pgdpr_owner: only pgdpr_owner (or a
    superuser) may attach it, not a table owner or a DBA of pgdpr_admin."""
    conn = club
    owner = f"owner_{uuid.uuid4().hex[:8]}"
    conn.execute(f'CREATE ROLE "{owner}" NOLOGIN IN ROLE pgdpr_admin')
    conn.execute(f'CREATE TABLE public.mine_{owner} (id int)')
    conn.execute(f'ALTER TABLE public.mine_{owner} OWNER TO "{owner}"')
    conn.execute(f'SET ROLE "{owner}"')
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute(f"""CREATE TRIGGER steal AFTER INSERT ON public.mine_{owner} REFERENCING NEW TABLE AS gdpr_new_rows
                         FOR EACH STATEMENT EXECUTE FUNCTION gdpr.erasure_guard('SELECT salt::text FROM gdpr.install_secret')""")
    conn.execute("RESET ROLE")
    staff = make_staff(conn, 1, "pgdpr_staff", "pgdpr_erasure")
    conn.execute(f'SET ROLE "{staff}"')
    for call in ("gdpr.ensure_erasure_guards('customer')", "gdpr.install_erasure_guards()",
                 "gdpr.erasure_guard_targets('customer')",
                 "gdpr.erasure_guard_query('club', 'log_lines', 'UPDATE')"):
        with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
            conn.execute(f"SELECT {call}")
    conn.execute("RESET ROLE")
    installed = conn.execute("SELECT gdpr.install_erasure_guards()").fetchone()[0]
    assert installed == 20 and conn.execute("SELECT gdpr.install_erasure_guards()").fetchone()[0] == 0  # 10 tables x 2


def test_a_schema_the_engine_has_never_seen(conn):
    """Generic from the catalog: text keys, no tenant, a 'via' chain (order lines via
    orders), an owned row, a jsonb column with free text."""
    conn.execute("""
        CREATE SCHEMA shop;
        CREATE TABLE shop.postal (id int PRIMARY KEY, line text);
        CREATE TABLE shop.people (handle text PRIMARY KEY, full_name text, email text, postal_id int REFERENCES shop.postal,
                                  erased_at timestamptz);
        CREATE TABLE shop.orders (id int PRIMARY KEY, person text REFERENCES shop.people, note text, extra jsonb);
        CREATE TABLE shop.order_lines (id int PRIMARY KEY, order_id int REFERENCES shop.orders, comment text);
        INSERT INTO shop.postal VALUES (1, 'Strandvejen 1'), (2, 'Havnegade 2');
        INSERT INTO shop.people VALUES ('ab-1', 'Asger Bøgh', 'asger@shop.dk', 1, NULL),
                                       ('cd-2', 'Carla Dahl', 'carla@shop.dk', 2, NULL);
        INSERT INTO shop.orders VALUES (10, 'ab-1', 'Ring til Asger Bøgh', '{"by": "asger@shop.dk"}'),
                                       (20, 'cd-2', 'Carla vil hente selv', '{"by": "carla@shop.dk"}');
        INSERT INTO shop.order_lines VALUES (100, 10, 'gaveindpakning til ASGER  bøgh'), (200, 20, 'ingen');
        SELECT gdpr.declare_subject('buyer', 'shop', 'people', 'handle', NULL, ARRAY['full_name', 'email']::name[],
                                    'erased_at', 'shop');
        SELECT gdpr.declare_table('shop', 'people', 'buyer', 'root', 'anonymize', 'Køber', 'Buyer', 'sales',
                                  'contract', '3 years');
        SELECT gdpr.declare_column('shop', 'people', 'full_name', 'name', 'constant', false, 'Anonymiseret');
        SELECT gdpr.declare_column('shop', 'people', 'email', 'contact', 'null');
        SELECT gdpr.declare_table('shop', 'postal', 'buyer', 'owned', 'delete', 'Adresse', 'Address', 'delivery',
                                  'contract', 'with the buyer', p_link_column => 'postal_id');
        SELECT gdpr.declare_table('shop', 'orders', 'buyer', 'direct', 'anonymize', 'Ordrer', 'Orders', 'sales',
                                  'contract', '5 years', p_link_column => 'person');
        SELECT gdpr.declare_column('shop', 'orders', 'note', 'free_text', 'redact');
        SELECT gdpr.declare_column('shop', 'orders', 'extra', 'free_text', 'redact');
        SELECT gdpr.declare_table('shop', 'order_lines', 'buyer', 'via', 'anonymize', 'Linjer', 'Lines', 'sales',
                                  'contract', '5 years', p_link_column => 'order_id', p_parent_schema => 'shop',
                                  p_parent_table => 'orders');
        SELECT gdpr.declare_column('shop', 'order_lines', 'comment', 'free_text', 'redact');
    """)
    summary = conn.execute("SELECT gdpr.anonymize('buyer', 'ab-1', 'request')").fetchone()[0]
    assert summary["proof"]["verdict"] == "erased", summary
    assert summary["tables"]["shop.order_lines"]["anonymized"] == 1
    assert summary["tables"]["shop.postal"]["deleted"] == 1
    assert conn.execute("SELECT full_name, email, postal_id, erased_at IS NOT NULL FROM shop.people "
                        "WHERE handle = 'ab-1'").fetchone() == ("Anonymiseret", None, None, True)
    assert conn.execute("SELECT note, extra->>'by' FROM shop.orders WHERE id = 10").fetchone() == \
        ("Ring til [anonymiseret]", "[anonymiseret]")
    assert conn.execute("SELECT comment FROM shop.order_lines ORDER BY id").fetchall() == \
        [("gaveindpakning til [anonymiseret]",), ("ingen",)]
    assert conn.execute("SELECT count(*) FROM shop.postal").fetchone()[0] == 1
    assert conn.execute("SELECT note FROM shop.orders WHERE id = 20").fetchone()[0] == "Carla vil hente selv"
    with pytest.raises(errors.CheckViolation, match="buyer ab-1 is anonymised"):
        conn.execute("INSERT INTO shop.order_lines VALUES (101, 10, 'ny linje')")
    conn.execute("INSERT INTO shop.order_lines VALUES (201, 20, 'ny linje')")
    assert conn.execute("SELECT gdpr.verify_erased('buyer', 'ab-1')").fetchone()[0]["hits"] == 0


# --- security review (issue 4 hardening) -----------------------------------------------

def test_erasure_right_is_checked_inside_not_only_by_the_grant(club):
    """F1: a SECURITY DEFINER function owned by pgdpr_owner (like a rule run) lends its
    EXECUTE right on anonymize_many to whoever may call it; anonymize_many checks the
    calling role itself."""
    conn = club
    subject = make_customer(conn, 1)
    plain_staff = make_staff(conn, 1, "pgdpr_staff")
    eraser = make_staff(conn, 1, "pgdpr_staff", "pgdpr_erasure")
    for name, call in (("erase_many", "SELECT a.outcome FROM gdpr.anonymize_many('customer', '1', ARRAY[k], 'r') a"),
                       ("erase_one", "SELECT gdpr.anonymize('customer', k, 'r') ->> 'status'"),
                       ("clear_hold", "SELECT gdpr.clear_legal_hold(k::bigint)::text")):
        conn.execute(f"""CREATE FUNCTION public.{name}(k text) RETURNS SETOF text LANGUAGE sql
                         SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ {call} $$""")
        conn.execute(f"ALTER FUNCTION public.{name}(text) OWNER TO pgdpr_owner")
        conn.execute(f'GRANT EXECUTE ON FUNCTION public.{name}(text) TO "{plain_staff}", "{eraser}"')
    hold = conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'other', 'x')", (str(subject.id),)).fetchone()[0]
    conn.execute(f'SET ROLE "{plain_staff}"')
    for sql, arg in (("SELECT public.erase_many(%s)", str(subject.id)), ("SELECT public.erase_one(%s)", str(subject.id)),
                     ("SELECT public.clear_hold(%s)", str(hold))):
        with pytest.raises(errors.InsufficientPrivilege, match="may not erase"):
            conn.execute(sql, (arg,))
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT anonymized_at FROM club.customers WHERE id = %s", (subject.id,)).fetchone()[0] is None
    # the legitimate paths: a member of pgdpr_erasure, and the ticker (superuser / admin)
    conn.execute(f'SET ROLE "{eraser}"')
    assert conn.execute("SELECT public.clear_hold(%s)", (str(hold),)).fetchone() is not None
    assert conn.execute("SELECT public.erase_many(%s)", (str(subject.id),)).fetchone()[0] == "anonymized"
    conn.execute("RESET ROLE")
    other = make_customer(conn, 1)
    assert conn.execute("SELECT public.erase_many(%s)", (str(other.id),)).fetchone()[0] == "anonymized"
    third = make_customer(conn, 1)
    conn.execute("SET ROLE pgdpr_admin")
    assert conn.execute("SELECT public.erase_one(%s)", (str(third.id),)).fetchone()[0] == "anonymized"
    conn.execute("RESET ROLE")


def test_hold_reasons_and_batch_reasons_lose_the_subjects_values(club):
    """F5: free text about the subject in the engine's own tables: the legal hold's
    reason is redacted at erasure; a batch reason is redacted before it is written."""
    conn = club
    held = make_customer(conn, 1, first_name="Gudrun")
    conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'debt', %s)",
                 (str(held.id), f"gæld, cpr {held.cpr}, ring {held.first_name} {held.last_name} på {held.phone}"))
    other_hold = make_customer(conn, 1)
    conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'debt', 'faktura 17')", (str(other_hold.id),))
    summary = anonymize(conn, held, p_force=True)
    assert (summary["proof"]["verdict"], summary["proof"]["hits"], summary["proof"]["places"]) == ("erased", 0, [])
    reason = conn.execute("SELECT reason FROM gdpr.legal_hold WHERE subject_key = %s", (str(held.id),)).fetchone()[0]
    assert held.cpr not in reason and "Gudrun" not in reason and held.phone not in reason
    assert reason.startswith("gæld, cpr kræver login")  # numbers are masked when the hold is placed
    assert conn.execute("SELECT reason FROM gdpr.legal_hold WHERE subject_key = %s",
                        (str(other_hold.id),)).fetchone()[0] == "faktura 17"  # another subject's hold is untouched
    assert conn.execute("SELECT gdpr.verify_erased('customer', %s)", (str(held.id),)).fetchone()[0]["verdict"] == "erased"

    a = make_customer(conn, 1, first_name="Karoline")
    b = make_customer(conn, 1, first_name="Bodil")
    rows = conn.execute("SELECT subject_key, outcome FROM gdpr.anonymize_many('customer', '1', %s, %s, 4)",
                        ([str(a.id), str(b.id)], f"regel 4: Karoline og Bodil, {a.email}")).fetchall()
    assert sorted(o for _, o in rows) == ["anonymized", "anonymized"]
    notes = conn.execute("SELECT n.note FROM gdpr.audit_event e JOIN gdpr.audit_note n ON n.event_id = e.id "
                         "WHERE e.action = 'anonymize' AND e.subject_key = ANY (%s)", ([str(a.id), str(b.id)],)).fetchall()
    assert len(notes) == 2
    for (note,) in notes:  # every subject of the batch is taken out of every row
        assert "Karoline" not in note and "Bodil" not in note and a.email not in note
        assert note.startswith("regel 4: ")


def test_caller_text_about_the_subject_goes_with_it(club):
    """Text a caller wrote about the subject (a report's purpose) is kept apart from
    the append-only audit trail, in a note the erasure deletes: nothing of it is left
    for the proof to find, now or later."""
    conn = club
    subject = make_customer(conn, 1)
    conn.execute("SELECT gdpr.audit('insight_report', 'customer', '1', %s, %s, '{}')",
                 (str(subject.id), f"svar til {subject.email}"))
    assert conn.execute("SELECT purpose FROM gdpr.audit_event WHERE subject_key = %s AND action = 'insight_report'",
                        (str(subject.id),)).fetchone()[0] == "note"
    untouched = make_customer(conn, 1)
    conn.execute("SELECT gdpr.audit('insight_report', 'customer', '1', %s, 'svar til kunden', '{}')",
                 (str(untouched.id),))
    summary = anonymize(conn, subject)
    assert summary["proof"]["verdict"] == "erased"
    assert conn.execute("SELECT count(*) FROM gdpr.audit_note WHERE note LIKE %s",
                        (f"%{subject.email}%",)).fetchone()[0] == 0
    assert conn.execute("SELECT gdpr.verify_erased('customer', %s)", (str(subject.id),)).fetchone()[0]["verdict"] \
        == "erased"
    # another subject's note stays
    assert conn.execute("SELECT note FROM gdpr.audit_note WHERE subject_key = %s",
                        (str(untouched.id),)).fetchone()[0] == "svar til kunden"
