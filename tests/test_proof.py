"""The proof of an erasure: an honest verdict (`erased` only when every place was
searched and nothing found, else `not_erased` or `incomplete`, naming the place), a
proof store from which no guessed value can be confirmed, gdpr.verify_erased checking
later without values, and residue outside the tables (planner statistics, the audit
trail)."""

from __future__ import annotations

import json
import os
from itertools import count

import psycopg
import pytest

from conftest import dsn_for
from factory import make_club, make_customer

_dbs = count()


def anonymize(conn, customer, reason="kunden bad om det", **kw):
    args = "".join(f", {k} => %({k})s" for k in kw)
    return conn.execute(f"SELECT gdpr.anonymize('customer', %(key)s, %(reason)s{args})",
                        {"key": str(customer.id), "reason": reason, **kw}).fetchone()[0]


def verify(conn, customer):
    return conn.execute("SELECT gdpr.verify_erased('customer', %s)", (str(customer.id),)).fetchone()[0]


@pytest.fixture
def club(conn):
    make_club(conn, 1)
    return conn


# -- an honest verdict ------------------------------------------------------------------

def test_a_linked_table_pgdpr_owner_may_not_read_makes_it_incomplete(club, run_cli):
    conn = club
    subject = make_customer(conn, 1)
    conn.execute("""CREATE TABLE club.lockers (club_id bigint, customer_id bigint, label text,
                    FOREIGN KEY (club_id, customer_id) REFERENCES club.customers)""")
    conn.execute("INSERT INTO club.lockers VALUES (1, %s, 'skab 7')", (subject.id,))
    result = run_cli("anonymize", str(subject.id), "--yes")
    assert result.exit_code == 1, result.output
    assert "proof: incomplete" in result.output
    assert "NOT SEARCHED: club.lockers: pgdpr_owner may not read it" in result.output
    assert "the proof says incomplete" in result.output
    assert verify(conn, subject)["verdict"] == "incomplete"
    stored = conn.execute("SELECT verdict, unsearched FROM gdpr.erasure_proof WHERE subject_key = %s",
                          (str(subject.id),)).fetchone()
    assert stored[0] == "incomplete" and stored[1][0]["place"] == "club.lockers"


def test_an_undeclared_table_linked_to_the_subjects_rows_makes_it_incomplete(club, run_cli):
    """Linked by a foreign key to a declared table (here a log line, not the customer),
    holding rows of the subject but no value the patterns find: the engine does not know
    what those rows are, so it cannot say erased."""
    conn = club
    subject, other = make_customer(conn, 1), make_customer(conn, 1)
    conn.execute("CREATE TABLE club.log_attachments (club_id bigint, line_id bigint, kind text, "
                 "FOREIGN KEY (club_id, line_id) REFERENCES club.log_lines)")
    conn.execute("GRANT SELECT ON club.log_attachments TO pgdpr_owner")
    conn.execute("INSERT INTO club.log_attachments SELECT club_id, id, 'scan' FROM club.log_lines "
                 "WHERE customer_id = %s",
                 (subject.id,))
    result = run_cli("anonymize", str(subject.id), "--yes", "--format", "json")
    assert result.exit_code == 1
    proof = json.loads(result.output[result.output.index("{"):result.output.rindex("}") + 1])["proof"]
    assert proof["verdict"] == "incomplete" and proof["hits"] == 0
    assert proof["unsearched"] == [{"place": "club.log_attachments",
                                    "why": "not in the catalog, linked by a foreign key to the subject's rows: 2 rows"}]
    # a subject with no row there: nothing unknown is left of it
    assert anonymize(conn, other)["proof"]["verdict"] == "erased"


def test_a_binary_column_holding_a_value_makes_it_incomplete(club):
    conn = club
    subject, other = make_customer(conn, 1), make_customer(conn, 1)
    conn.execute("ALTER TABLE club.log_lines ADD COLUMN scan bytea")
    conn.execute("UPDATE club.log_lines SET scan = convert_to(text, 'UTF8') WHERE customer_id = %s", (subject.id,))
    proof = anonymize(conn, subject)["proof"]
    assert proof["verdict"] == "incomplete"
    assert proof["unsearched"] == [{"place": "club.log_lines.scan",
                                    "why": "a binary column, not searchable: 2 cells hold a value"}]
    assert anonymize(conn, other)["proof"]["verdict"] == "erased"  # NULL there: nothing unsearched


def test_what_the_catalog_missed_is_not_erased_and_the_cli_fails(club, run_cli):
    conn = club
    subject = make_customer(conn, 1)
    conn.execute("ALTER TABLE club.log_lines ADD COLUMN remark text")  # undeclared column of a declared table
    conn.execute("UPDATE club.log_lines SET remark = 'ring ' || %s WHERE customer_id = %s", (subject.phone, subject.id))
    result = run_cli("anonymize", str(subject.id), "--yes")
    assert result.exit_code == 1
    assert "proof: not_erased (2 hits" in result.output
    assert "FOUND in club.log_lines.remark (2 cells)" in result.output
    assert "identifying values were found" in result.output
    assert verify(conn, subject)["verdict"] == "not_erased"


def test_erased_exits_zero(club, run_cli):
    subject = make_customer(club, 1)
    result = run_cli("anonymize", str(subject.id), "--yes", "--format", "json")
    assert result.exit_code == 0, result.output


# -- the proof store cannot be reversed ------------------------------------------------

KEPT = {  # everything the engine keeps after an erasure, without times
    "gdpr.erasure_proof": "SELECT kind, tenant, subject_key, verdict, scope, found, unsearched FROM gdpr.erasure_proof",
    "gdpr.erasure_proof_scope": "SELECT digest, kind, places FROM gdpr.erasure_proof_scope",
    "gdpr.erasure_ledger": "SELECT kind, tenant, subject_key, actor, rule_id, reason_category FROM gdpr.erasure_ledger",
    "gdpr.audit_event": "SELECT action, kind, tenant, subject_key, purpose, details, actor FROM gdpr.audit_event",
    "gdpr.audit_note": "SELECT kind, tenant, subject_key, note FROM gdpr.audit_note",
    "gdpr.legal_hold": "SELECT kind, tenant, subject_key, hold_type, reason FROM gdpr.legal_hold",
    "gdpr.deferred_erasure": "SELECT kind, tenant, subject_key, table_schema, table_name, rows_pending "
                             "FROM gdpr.deferred_erasure",
    # customer_no: a fresh random value at each erasure, derived from nothing (erase = random)
    "club.customers": "SELECT to_jsonb(c) - 'anonymized_at' - 'member_since' - 'customer_no' FROM club.customers c",
    "club.log_lines": "SELECT customer_id, text FROM club.log_lines",
}


def _erase_one_with_cpr(dsn: str, cpr: str) -> dict:
    """A fresh database, one customer with this CPR written the ways staff write it
    (log line, hold reason, erasure reason); erased; returns what is kept."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        make_club(conn, 1)
        key = conn.execute(
            """INSERT INTO club.customers (club_id, customer_no, first_name, last_name, email, phone, cpr,
                                           birth_date, member_since)
               VALUES (1, 'K424242', 'Vibeke', 'Ærenlund', 'vibeke@example.dk', '+45 20998877', %s,
                       club.cpr_birth_date(%s), '2020-01-01') RETURNING id""", (cpr, cpr)).fetchone()[0]
        conn.execute("INSERT INTO club.log_lines (club_id, customer_id, written_at, text) VALUES (1, %s, "
                     "'2024-01-01', %s)", (key, f"Vibeke Ærenlund oplyste cpr {cpr[:6]}-{cpr[6:]}"))
        conn.execute("SELECT gdpr.set_legal_hold('customer', %s, 'debt', %s)", (str(key), f"gæld, cpr {cpr}"))
        summary = conn.execute("SELECT gdpr.anonymize('customer', %s, %s, NULL, true)",
                               (str(key), f"anmodning, cpr {cpr}")).fetchone()[0]
        assert summary["proof"]["verdict"] == "erased", summary
        kept = {name: sorted(json.dumps(r, sort_keys=True, default=str) for r in conn.execute(sql).fetchall())
                for name, sql in KEPT.items()}
        verdict = conn.execute("SELECT gdpr.verify_erased('customer', %s) #- '{proof,proved_at}'",
                               (str(key),)).fetchone()[0]
        kept["verify_erased"] = [json.dumps(verdict, sort_keys=True)]
        # an attacker with the database (a superuser, or a stolen backup), trying candidates:
        # every form the engine has ever derived from a value with the install secret
        candidates = [cpr] + [f"{d:02d}0170{s:04d}" for d in range(1, 8) for s in range(1000, 1030)]
        everything = conn.execute(
            "SELECT string_agg(x, ' ') FROM (" + " UNION ALL ".join(
                f"SELECT t::text AS x FROM ({sql}) t" for sql in KEPT.values()) + ") q").fetchone()[0]
        confirmed = conn.execute(
            """SELECT c FROM unnest(%s::text[]) AS c, gdpr.install_secret s,
                      LATERAL (VALUES (c), (left(c, 6) || '-' || right(c, 4))) AS w(v),
                      LATERAL (VALUES (w.v), (gdpr.keyed_hash(w.v, s.salt)), (gdpr.keyed_hash('proof:' || w.v, s.salt)),
                                      (encode(sha256(convert_to(w.v, 'UTF8')), 'hex')), (md5(w.v)),
                                      (gdpr.hmac_sha256(w.v, s.salt))) AS d(form)
                WHERE strpos(%s, d.form) > 0""", (candidates, everything)).fetchall()
        kept["confirmed"] = [c for (c,) in confirmed]
        return kept


@pytest.fixture
def fresh_dsn(server_dsn, admin_conn, template_db):
    made = []

    def make():
        name = f"pgdpr_proof_{os.getpid()}_{next(_dbs)}"
        admin_conn.execute(f"CREATE DATABASE {name} TEMPLATE {template_db} STRATEGY FILE_COPY")
        made.append(name)
        return dsn_for(server_dsn, name)
    yield make
    for name in made:
        admin_conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_guessed_cpr_cannot_be_confirmed_from_what_is_kept(fresh_dsn):
    """Two databases alike but for one customer's CPR. After the erasure, what the
    engine keeps (proof store, ledger, audit trail and notes, hold reasons, the kept rows,
    what verify_erased answers) is the same in both, so nothing in it can tell which CPR
    was erased; and no candidate's hash or spelling is found in it."""
    a = _erase_one_with_cpr(fresh_dsn(), "0101701234")
    b = _erase_one_with_cpr(fresh_dsn(), "0302701357")  # same birth year: the year is kept
    assert a.pop("confirmed") == [] and b.pop("confirmed") == []
    for name in a:
        assert a[name] == b[name], name
    assert a["gdpr.erasure_proof"] and a["gdpr.audit_event"] and a["gdpr.legal_hold"]


def test_verify_erased_takes_no_value_from_its_caller(conn):
    args = conn.execute("SELECT proargnames FROM pg_proc WHERE oid = 'gdpr.verify_erased(text, text, text)'::regprocedure"
                        ).fetchone()[0]
    assert args == ["p_kind", "p_subject_key", "p_tenant"]
    assert conn.execute("SELECT count(*) FROM pg_proc WHERE proname = 'verify_erased'").fetchone()[0] == 1
    columns = {c for (c,) in conn.execute("SELECT column_name FROM information_schema.columns "
                                          "WHERE table_schema = 'gdpr' AND table_name = 'erasure_proof'")}
    assert columns == {"kind", "tenant", "subject_key", "verdict", "scope", "found", "unsearched", "proved_at"}


# -- verify_erased, later, without values --------------------------------------------------

def test_verify_erased_checks_what_needs_no_value(club):
    conn = club
    subject = make_customer(conn, 1)
    anonymize(conn, subject)
    first = verify(conn, subject)
    assert (first["verdict"], first["structure"], first["changed"]) == ("erased", [], [])
    # someone puts data back behind the guards' backs (triggers off for replication)
    conn.execute("SET session_replication_role = replica")
    conn.execute("UPDATE club.customers SET email = %s WHERE id = %s", (subject.email, subject.id))
    conn.execute("INSERT INTO club.notes (club_id, customer_id, written_at, text) VALUES (1, %s, now(), 'igen')",
                 (subject.id,))
    conn.execute("RESET session_replication_role")
    again = verify(conn, subject)
    assert again["verdict"] == "not_erased" and again["proof"]["verdict"] == "erased"
    assert {p["place"] for p in again["structure"]} == {"club.customers.email", "club.notes"}


def test_verify_erased_says_incomplete_when_the_places_changed(club):
    conn = club
    subject = make_customer(conn, 1)
    anonymize(conn, subject)
    conn.execute("ALTER TABLE club.log_lines ADD COLUMN remark text")
    result = verify(conn, subject)
    assert result["verdict"] == "incomplete" and result["proof"]["verdict"] == "erased"
    assert result["changed"] == [{"table": "club.log_lines", "column": "remark", "how": "searched",
                                  "change": "not covered by the proof"}]
    later = make_customer(conn, 1)  # an erasure with the new catalog covers it
    anonymize(conn, later)
    assert verify(conn, later)["verdict"] == "erased"


def test_no_proof_for_a_subject_not_erased(club):
    subject = make_customer(club, 1)
    assert verify(club, subject)["verdict"] == "no_proof"


# -- residue outside tables -------------------------------------------------------------

def _in_stats(conn, value: str) -> list[str]:
    return [f"{t}.{c}" for t, c in conn.execute(
        """SELECT tablename, attname FROM pg_stats
            WHERE schemaname = 'club' AND (most_common_vals::text ILIKE %(v)s OR histogram_bounds::text ILIKE %(v)s)""",
        {"v": f"%{value}%"}).fetchall()]


def test_planner_statistics_lose_erased_values_at_the_next_tick(club):
    conn = club
    subject = make_customer(conn, 1, first_name="Hjørdis")
    for _ in range(3):
        make_customer(conn, 1)
    conn.execute("ANALYZE")
    assert "customers.email" in _in_stats(conn, subject.email)  # a histogram bound of a unique column
    anonymize(conn, subject)
    assert "customers.email" in _in_stats(conn, subject.email)  # until the next ANALYZE
    stale = {t for (t,) in conn.execute("SELECT table_name::text FROM gdpr.erasure_stale_statistics()")}
    assert "club.customers" in stale
    conn.execute("CALL gdpr.tick()")
    assert _in_stats(conn, subject.email) == [] and _in_stats(conn, "Hjørdis") == []
    assert conn.execute("SELECT count(*) FROM gdpr.erasure_stale_statistics()").fetchone()[0] == 0


def test_an_erasure_reason_with_a_phone_number_leaves_nothing_in_the_audit_trail(club):
    conn = club
    subject = make_customer(conn, 1)
    digits = subject.phone.replace("+45 ", "")
    anonymize(conn, subject, reason=f"kunden ringede fra {subject.phone} og bad om det")
    trail = repr(conn.execute("SELECT e.* FROM gdpr.audit_event e").fetchall())
    assert digits not in trail and "ringede" not in trail  # the reason is never in the trail
    notes = repr(conn.execute("SELECT note FROM gdpr.audit_note").fetchall())
    assert digits not in notes and "ringede" in notes  # the reason is a note, the number gone
