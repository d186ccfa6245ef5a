"""The adversarial persona suite (issue 5; basejump's habit, conventions.md).

Each persona tries every path to a CPR number, a bank account number and a
sensitive custom field value: the base tables, the generated views, every gdpr
function it may execute, constraint-violation messages, failing casts, pg_stats
and pg_stats_ext, EXPLAIN, and a leaky NOTICE-raising function in a WHERE clause.
Each persona's allowed paths must return the right values too (access is proven,
not only denial). Any value a persona must not see, found anywhere, fails.

Personas (club 1 = "home", club 2 = "other"):
  allowed      club 1 staff, group view_sensitive allowed, register write
  not_allowed  club 1 staff, group with the defaults' sensitivity, register write
  hidden       club 1 staff, group view_sensitive hidden, register read
  other_club   club 2 staff, allowed in club 2
  support      the vendor's support role: before a grant, with one, after expiry
  nobody       a role with no grants at all
"""

from __future__ import annotations

import itertools
import re
import secrets
import uuid
from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg import errors, sql

from factory import make_club, make_customer

MASK = "kræver login"

# SECURITY DEFINER functions a staff role may execute. A new one must be reviewed
# (it runs with the engine owner's rights) and added here by its author.
STAFF_DEFINER_ALLOW = {
    "sensitive_access_of", "register_access_of", "support_tenants", "rights_overview",
    "grant_support_access", "revoke_support_access", "insight_report", "insight_rows",
    # staff-facing engine functions of design.md, when their issues land
    "anonymize", "anonymize_subject", "erase", "set_legal_hold", "clear_legal_hold", "legal_holds",
    "preview_rule", "rule_history", "insight_export", "compliance_record", "insight_columns",
    "active_legal_holds", "pending_deferred_erasures",
    # scheduled rules (issue of the rules helper): per-club rules, runs and history
    "create_rule", "change_rule", "delete_rule", "enable_rule", "disable_rule", "set_rule_enabled",
    "list_rules", "show_rule", "run_rule", "run_batch", "start_manual_run", "cancel_run",
    # data-subject requests, restriction, consent withdrawal, the controller's record details
    "open_request", "extend_request", "close_request", "list_requests", "restrict_processing",
    "lift_restriction", "active_restrictions", "withdraw_consent", "record_consent", "set_controller_details",
}
SUPPORT_DEFINER_ALLOW = {"sensitive_access_of", "register_access_of", "support_tenants"}


@dataclass
class Values:
    """One customer's identifying values, rewritten to be unique in the whole run."""
    club: int
    id: int
    cpr: str
    bank_account: str
    secret: str
    email: str
    last_name: str

    @property
    def sensitive(self) -> set[str]:
        return {self.cpr, self.bank_account, self.secret}

    @property
    def plain(self) -> set[str]:
        return {self.email, self.last_name}


@dataclass
class Persona:
    name: str
    role: str
    forbidden: set[str] = field(default_factory=set)


def unique_customer(conn, club: int) -> Values:
    c = make_customer(conn, club)
    bank = str(secrets.randbelow(9 * 10**9) + 10**9)
    secret = f"helbred-{uuid.uuid4().hex[:12]}"
    last = f"Leak{uuid.uuid4().hex[:10]}"
    email = f"{last.lower()}@example.dk"
    conn.execute("UPDATE club.customers SET bank_account = %s, last_name = %s, email = %s WHERE id = %s",
                 (bank, last, email, c.id))
    conn.execute("UPDATE club.custom_field_values SET value = %s WHERE customer_id = %s AND is_sensitive",
                 (secret, c.id))
    return Values(club, c.id, c.cpr, bank, secret, email, last)


@pytest.fixture
def world(conn):
    """Two clubs, one known customer in each, and the personas."""
    sfx = uuid.uuid4().hex[:8]
    make_club(conn, 1)
    make_club(conn, 2)
    home = unique_customer(conn, 1)
    other = unique_customer(conn, 2)
    groups = {
        "allowed": ("1", {"view_sensitive": "allowed", "register_access": "write"}),
        "not_allowed": ("1", {"register_access": "write"}),
        "hidden": ("1", {"view_sensitive": "hidden", "register_access": "read"}),
        "other_club": ("2", {"view_sensitive": "allowed", "register_access": "write"}),
    }
    personas: dict[str, Persona] = {}
    for name, (tenant, rights) in groups.items():
        group = f"grp_{name}_{sfx}"
        conn.execute("SELECT gdpr.create_staff_group(%s, %s, %s)", (tenant, group, name))
        for right, value in rights.items():
            conn.execute("SELECT gdpr.set_right(%s, 'customers', %s, %s)", (group, right, value))
        role = f"staff_{name}_{sfx}"
        conn.execute("SELECT gdpr.add_staff(%s, %s, ARRAY[%s]::name[])", (tenant, role, group))
        personas[name] = Persona(name, role)
    support = f"vendor_{sfx}"
    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN IN ROLE pgdpr_support").format(sql.Identifier(support)))
    personas["support"] = Persona("support", support)
    nobody = f"nobody_{sfx}"
    conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(nobody)))
    personas["nobody"] = Persona("nobody", nobody)

    personas["allowed"].forbidden = other.sensitive | other.plain
    personas["not_allowed"].forbidden = other.sensitive | other.plain | home.sensitive
    personas["hidden"].forbidden = other.sensitive | other.plain | home.sensitive
    personas["other_club"].forbidden = home.sensitive | home.plain
    personas["support"].forbidden = home.sensitive | home.plain | other.sensitive | other.plain
    personas["nobody"].forbidden = home.sensitive | home.plain | other.sensitive | other.plain
    conn.execute("ANALYZE")
    return {"home": home, "other": other, "personas": personas, "sfx": sfx}


def as_role(conn, role: str) -> None:
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))


def assert_no_leak(text: str, forbidden: set[str], where: str) -> None:
    for value in forbidden:
        assert value not in text, f"{where}: leaked a value it must not see"


def view_names(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        """SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'v' AND n.nspname = 'club_app' ORDER BY 1""")]


def base_tables(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        """SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname = 'club' ORDER BY 1""")]


def dump_views(conn, role: str) -> dict[str, list[tuple]]:
    """Every row of every view as the role (with the role set per query)."""
    views = view_names(conn)
    out = {}
    as_role(conn, role)
    try:
        for view in views:
            out[view] = conn.execute(f"SELECT * FROM {view}").fetchall()
    finally:
        conn.execute("RESET ROLE")
    return out


def grant_support(conn) -> None:
    conn.execute("INSERT INTO gdpr.support_grant (tenant, granted_by, expires_at) "
                 "VALUES ('1', 'test', now() + interval '1 hour')")


def granted_support_forbidden(world) -> set[str]:
    return world["home"].sensitive | world["other"].sensitive | world["other"].plain


PERSONAS = ["allowed", "not_allowed", "hidden", "other_club", "support", "nobody"]


# -- base tables ---------------------------------------------------------------------

@pytest.mark.parametrize("who", PERSONAS)
def test_base_tables_refuse_every_persona(conn, world, who):
    persona = world["personas"][who]
    tables = base_tables(conn)
    assert len(tables) >= 15
    for table in tables:
        for statement in (f"SELECT * FROM {table} LIMIT 1", f"DELETE FROM {table}",
                          f"UPDATE {table} SET club_id = club_id" if table != "club.clubs" else
                          f"UPDATE {table} SET id = id"):
            with conn.transaction(force_rollback=True):
                as_role(conn, persona.role)
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(statement)


# -- the views: what each persona reads ----------------------------------------------

def test_allowed_reads_own_values_and_no_other_club(conn, world):
    home, other = world["home"], world["other"]
    rows = dump_views(conn, world["personas"]["allowed"].role)
    customers = rows["club_app.customers"]
    assert {r[0] for r in customers} == {1}
    conn.row_factory = psycopg.rows.dict_row
    as_role(conn, world["personas"]["allowed"].role)
    me = conn.execute("SELECT cpr, bank_reg, bank_account, email FROM club_app.customers WHERE id = %s",
                      (home.id,)).fetchone()
    assert me == {"cpr": home.cpr, "bank_reg": "1234", "bank_account": home.bank_account, "email": home.email}
    values = {r["value"] for r in conn.execute(
        "SELECT value FROM club_app.custom_field_values WHERE customer_id = %s", (home.id,))}
    assert values == {home.secret, "42"}
    assert conn.execute("SELECT count(*) AS n FROM club_app.customers WHERE id = %s", (other.id,)).fetchone()["n"] == 0
    conn.execute("RESET ROLE")
    assert_no_leak(repr(rows), world["personas"]["allowed"].forbidden, "views as allowed")


@pytest.mark.parametrize("who, rendered", [("not_allowed", MASK), ("hidden", None)])
def test_not_allowed_and_hidden_read_the_mask(conn, world, who, rendered):
    home = world["home"]
    persona = world["personas"][who]
    rows = dump_views(conn, persona.role)
    assert_no_leak(repr(rows), persona.forbidden, f"views as {who}")
    as_role(conn, persona.role)
    me = conn.execute("SELECT cpr, bank_reg, bank_account, email, last_name FROM club_app.customers WHERE id = %s",
                      (home.id,)).fetchone()
    assert me == (rendered, rendered, rendered, home.email, home.last_name)  # the rest passes through
    values = sorted(conn.execute("SELECT is_sensitive, value FROM club_app.custom_field_values "
                                 "WHERE customer_id = %s ORDER BY is_sensitive", (home.id,)).fetchall())
    assert values == [(False, "42"), (True, rendered)]  # only the sensitive field is masked
    staff_view = conn.execute("SELECT count(*) FROM club_app.staff").fetchone()[0]
    assert staff_view >= 0


def test_other_club_sees_zero_rows_of_club_one(conn, world):
    persona = world["personas"]["other_club"]
    rows = dump_views(conn, persona.role)
    assert_no_leak(repr(rows), persona.forbidden, "views as other_club")
    as_role(conn, persona.role)
    for view in view_names(conn):
        columns = [r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0", (view,))]
        key = "club_id" if "club_id" in columns else "id"
        assert conn.execute(f"SELECT count(*) FROM {view} WHERE {key} = 1").fetchone()[0] == 0, view
    # and its own club's values, in full (it is allowed there)
    other = world["other"]
    assert conn.execute("SELECT cpr FROM club_app.customers WHERE id = %s", (other.id,)).fetchone()[0] == other.cpr


def test_support_before_with_and_after_a_grant(conn, world):
    support = world["personas"]["support"]
    home = world["home"]
    # before: no club's rows at all
    rows = dump_views(conn, support.role)
    assert all(not r for r in rows.values()), "support sees rows without a grant"
    # club 1 grants access (as its writing staff member): rows of club 1, never a sensitive value
    as_role(conn, world["personas"]["allowed"].role)
    conn.execute("SELECT gdpr.grant_support_access('1', now() + interval '1 hour')")
    conn.execute("RESET ROLE")
    rows = dump_views(conn, support.role)
    assert {r[0] for r in rows["club_app.customers"]} == {1}
    forbidden = home.sensitive | world["other"].sensitive | world["other"].plain
    assert_no_leak(repr(rows), forbidden, "views as support with a grant")
    as_role(conn, support.role)
    assert conn.execute("SELECT cpr, bank_account, email FROM club_app.customers WHERE id = %s",
                        (home.id,)).fetchone() == (MASK, MASK, home.email)
    assert conn.execute("SELECT value FROM club_app.custom_field_values WHERE customer_id = %s AND is_sensitive",
                        (home.id,)).fetchone()[0] == MASK
    with pytest.raises(errors.InsufficientPrivilege):  # reading only
        conn.execute("UPDATE club_app.customers SET email = 'x@example.dk' WHERE id = %s", (home.id,))
    conn.execute("RESET ROLE")
    # after expiry: nothing again, without anyone revoking it
    conn.execute("UPDATE gdpr.support_grant SET granted_at = now() - interval '2 hours', "
                 "expires_at = now() - interval '1 hour'")
    rows = dump_views(conn, support.role)
    assert all(not r for r in rows.values()), "support sees rows after the grant expired"
    actions = [r[0] for r in conn.execute("SELECT action FROM gdpr.audit_event WHERE action LIKE 'support_grant.%'")]
    assert actions == ["support_grant.insert", "support_grant.update"]


def test_nobody_cannot_even_name_the_views(conn, world):
    persona = world["personas"]["nobody"]
    for view in view_names(conn):
        with conn.transaction(force_rollback=True):
            as_role(conn, persona.role)
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(f"SELECT * FROM {view}")


# -- writes through the views --------------------------------------------------------

def test_writes_follow_the_rights(conn, world):
    home, other = world["home"], world["other"]
    p = world["personas"]
    # not_allowed may write plain columns; the masked value it sees is never written back
    as_role(conn, p["not_allowed"].role)
    assert conn.execute("UPDATE club_app.customers SET phone = '+45 11111111' WHERE id = %s",
                        (home.id,)).rowcount == 1
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("UPDATE club_app.customers SET cpr = '0101701234' WHERE id = %s", (home.id,))
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("INSERT INTO club_app.customers (customer_no, first_name, last_name, cpr) "
                     "VALUES ('N1', 'Ny', 'Kunde', '0202802345')")
    new_id = conn.execute("INSERT INTO club_app.customers (customer_no, first_name, last_name) "
                          "VALUES ('N2', 'Ny', 'Kunde') RETURNING id, club_id").fetchone()
    assert new_id[1] == 1  # the club is taken from the role
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT cpr, phone FROM club.customers WHERE id = %s", (home.id,)).fetchone() == \
        (home.cpr, "+45 11111111")
    # allowed writes sensitive columns too
    as_role(conn, p["allowed"].role)
    conn.execute("UPDATE club_app.customers SET cpr = '0202802345', bank_reg = '4321', bank_account = '12345' WHERE id = %s",
                 (new_id[0],))
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT cpr, bank_reg FROM club.customers WHERE id = %s", (new_id[0],)).fetchone() == \
        ("0202802345", "4321")
    # hidden has read access only
    as_role(conn, p["hidden"].role)
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("UPDATE club_app.customers SET phone = '1' WHERE id = %s", (home.id,))
    conn.execute("RESET ROLE")
    # another club: no row to change, and no row to plant in club 1
    as_role(conn, p["other_club"].role)
    assert conn.execute("UPDATE club_app.customers SET phone = '1' WHERE id = %s", (home.id,)).rowcount == 0
    assert conn.execute("DELETE FROM club_app.notes WHERE club_id = 1").rowcount == 0
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("INSERT INTO club_app.customers (club_id, customer_no, first_name, last_name) "
                     "VALUES (1, 'X1', 'Plant', 'Ed')")
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT phone FROM club.customers WHERE id = %s", (home.id,)).fetchone()[0] == "+45 11111111"
    assert conn.execute("SELECT count(*) FROM club.notes WHERE club_id = 1").fetchone()[0] > 0
    assert other.id != home.id


def test_writers_cannot_unmask_sensitive_custom_fields(conn, world):
    """F2: a writer without view_sensitive cannot make a sensitive custom field value
    readable without writing it: not by moving the value row to a plain field and
    clearing its flag, not by clearing the flag of the row, not by clearing the field
    definition's flag (the composite foreign key cascades it to every value). The
    allowed writer can do each of them, and plain writes still work."""
    home = world["home"]
    p = world["personas"]
    plain_field, secret_field = conn.execute(
        "SELECT min(id) FILTER (WHERE NOT is_sensitive), min(id) FILTER (WHERE is_sensitive) "
        "FROM club.custom_fields WHERE club_id = 1").fetchone()
    as_role(conn, p["not_allowed"].role)
    # (A) delete the plain value, then move the sensitive row onto the plain field
    assert conn.execute("DELETE FROM club_app.custom_field_values WHERE customer_id = %s AND field_id = %s",
                        (home.id, plain_field)).rowcount == 1
    for attack in ("UPDATE club_app.custom_field_values SET field_id = %(plain)s, is_sensitive = false "
                   "WHERE customer_id = %(id)s AND is_sensitive",
                   "UPDATE club_app.custom_field_values SET is_sensitive = false "
                   "WHERE customer_id = %(id)s AND is_sensitive",
                   "UPDATE club_app.custom_field_values SET field_id = %(plain)s "
                   "WHERE customer_id = %(id)s AND is_sensitive",
                   # (B) the definition's flag, cascaded to every value by the foreign key
                   "UPDATE club_app.custom_fields SET is_sensitive = false WHERE is_sensitive"):
        with pytest.raises(errors.InsufficientPrivilege, match="sensitive"):
            conn.execute(attack, {"plain": plain_field, "id": home.id})
        text = " ".join(str(r) for r in conn.execute(
            "SELECT * FROM club_app.custom_field_values WHERE customer_id = %s", (home.id,)).fetchall())
        assert_no_leak(text, {home.secret}, "custom_field_values after an unmasking attempt")
        assert MASK in text
    # plain writes still work: a plain value, a plain definition, a new plain value
    assert conn.execute("INSERT INTO club_app.custom_field_values (customer_id, field_id, value) "
                        "VALUES (%s, %s, '43')", (home.id, plain_field)).rowcount == 1
    assert conn.execute("UPDATE club_app.custom_field_values SET value = '44' WHERE customer_id = %s "
                        "AND field_id = %s", (home.id, plain_field)).rowcount == 1
    assert conn.execute("UPDATE club_app.custom_fields SET name = 'Skonummer' WHERE id = %s",
                        (plain_field,)).rowcount == 1
    assert conn.execute("UPDATE club_app.custom_fields SET is_sensitive = true WHERE id = %s",
                        (plain_field,)).rowcount == 1  # masking more is no leak
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT value, is_sensitive FROM club.custom_field_values WHERE customer_id = %s "
                        "AND field_id = %s", (home.id, secret_field)).fetchone() == (home.secret, True)
    assert conn.execute("SELECT value, is_sensitive FROM club.custom_field_values WHERE customer_id = %s "
                        "AND field_id = %s", (home.id, plain_field)).fetchone() == ("44", True)
    # the allowed writer may unmask: the definition (cascaded) and a value row
    as_role(conn, p["allowed"].role)
    assert conn.execute("UPDATE club_app.custom_fields SET is_sensitive = false WHERE id = %s",
                        (plain_field,)).rowcount == 1
    assert conn.execute("DELETE FROM club_app.custom_field_values WHERE customer_id = %s AND field_id = %s",
                        (home.id, plain_field)).rowcount == 1
    assert conn.execute("UPDATE club_app.custom_field_values SET field_id = %s, is_sensitive = false "
                        "WHERE customer_id = %s AND is_sensitive", (plain_field, home.id)).rowcount == 1
    assert conn.execute("SELECT value FROM club_app.custom_field_values WHERE customer_id = %s",
                        (home.id,)).fetchall() == [(home.secret,)]
    conn.execute("RESET ROLE")
    as_role(conn, p["not_allowed"].role)  # now a plain value: the not_allowed writer reads it
    assert conn.execute("SELECT value FROM club_app.custom_field_values WHERE customer_id = %s",
                        (home.id,)).fetchall() == [(home.secret,)]
    conn.execute("RESET ROLE")


def test_constraint_errors_carry_no_values(conn, world):
    home = world["home"]
    p = world["personas"]
    # a duplicate CPR through the view (the allowed role may write CPRs)
    as_role(conn, p["allowed"].role)
    with pytest.raises(errors.UniqueViolation) as caught:
        conn.execute("INSERT INTO club_app.customers (customer_no, first_name, last_name, cpr) "
                     "VALUES ('D1', 'Dub', 'Let', %s)", (home.cpr,))
    error = caught.value
    assert error.diag.message_detail is None
    assert_no_leak(str(error) + repr(error.diag.message_primary), home.plain | {home.bank_account}, "unique error")
    conn.execute("RESET ROLE")
    # a NOT NULL violation would print the whole failing row (CPR included) as DETAIL
    as_role(conn, p["not_allowed"].role)
    with pytest.raises(errors.NotNullViolation) as caught:
        conn.execute("UPDATE club_app.customers SET first_name = NULL WHERE id = %s", (home.id,))
    error = caught.value
    assert error.diag.message_detail is None
    assert_no_leak(str(error) + str(error.diag.message_primary), p["not_allowed"].forbidden, "not-null error")
    # a CHECK violation of another table
    with pytest.raises(errors.CheckViolation) as caught:
        conn.execute("UPDATE club_app.table_bookings SET party_size = 0 WHERE customer_id = %s", (home.id,))
    assert caught.value.diag.message_detail is None
    conn.execute("RESET ROLE")
    # another club's duplicate is no duplicate at all: uniqueness is per club
    as_role(conn, p["other_club"].role)
    conn.execute("INSERT INTO club_app.customers (customer_no, first_name, last_name, cpr) "
                 "VALUES ('D2', 'Dub', 'Let', %s)", (home.cpr,))
    conn.execute("RESET ROLE")


@pytest.mark.parametrize("who", ["not_allowed", "hidden", "other_club", "support"])
def test_failing_casts_show_no_value(conn, world, who):
    persona = world["personas"][who]
    forbidden = persona.forbidden
    if who == "support":  # with a grant: club 1's plain values, still no sensitive one
        grant_support(conn)
        forbidden = granted_support_forbidden(world)
    probes = ["SELECT 1 FROM club_app.customers WHERE cpr::int = 1",
              "SELECT 1 FROM club_app.customers WHERE bank_account::int = 1",
              "SELECT 1 FROM club_app.customers WHERE cpr::date IS NULL",
              "SELECT 1 FROM club_app.custom_field_values WHERE value::numeric = 1",
              "SELECT 1 FROM club_app.customers WHERE email::int = 1",
              "SELECT 1 FROM club_app.customers WHERE last_name::int = 1"]
    for probe in probes:
        with conn.transaction(force_rollback=True):
            as_role(conn, persona.role)
            try:
                conn.execute(probe).fetchall()
            except psycopg.Error as exc:
                text = f"{exc} {exc.diag.message_detail} {exc.diag.context}"
                assert_no_leak(text, forbidden, f"{probe} as {who}")


# -- statistics and plans ------------------------------------------------------------

def test_pg_stats_and_extended_statistics_stay_hidden(conn, world):
    home = world["home"]
    for i in range(30):  # enough rows for histograms and most-common values
        unique_customer(conn, 1)
    conn.execute("CREATE STATISTICS customers_cpr_bank (mcv) ON cpr, bank_account FROM club.customers")
    conn.execute("ANALYZE club.customers, club.custom_field_values")
    # the statistics do hold the values (so the check below means something)
    superuser_view = repr(conn.execute("SELECT * FROM pg_stats WHERE schemaname = 'club'").fetchall())
    superuser_ext = repr(conn.execute("SELECT * FROM pg_stats_ext WHERE schemaname = 'club'").fetchall())
    assert home.cpr in superuser_view and home.cpr in superuser_ext
    for who in PERSONAS:
        persona = world["personas"][who]
        as_role(conn, persona.role)
        stats = conn.execute("SELECT * FROM pg_stats WHERE schemaname IN ('club', 'club_app')").fetchall()
        ext = conn.execute("SELECT * FROM pg_stats_ext WHERE schemaname IN ('club', 'club_app')").fetchall()
        exprs = conn.execute("SELECT * FROM pg_stats_ext_exprs WHERE schemaname IN ('club', 'club_app')").fetchall()
        conn.execute("RESET ROLE")
        assert stats == [] and ext == [] and exprs == [], f"{who} reads statistics of protected tables"
        # pg_statistic itself is superuser-only
        with conn.transaction(force_rollback=True):
            as_role(conn, persona.role)
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute("SELECT * FROM pg_statistic")


@pytest.mark.parametrize("who", ["allowed", "not_allowed", "hidden", "other_club", "support"])
def test_explain_shows_no_values(conn, world, who):
    persona = world["personas"][who]
    home = world["home"]
    as_role(conn, persona.role)
    plans = []
    for query in ("SELECT * FROM club_app.customers",
                  f"SELECT * FROM club_app.customers WHERE id = {int(home.id)}",
                  "SELECT * FROM club_app.custom_field_values WHERE value LIKE 'helbred%'",
                  "SELECT c.*, v.value FROM club_app.customers c JOIN club_app.custom_field_values v "
                  "ON v.customer_id = c.id"):
        for options in ("VERBOSE", "ANALYZE, VERBOSE, BUFFERS", "FORMAT JSON, ANALYZE, VERBOSE"):
            plans.append(repr(conn.execute(f"EXPLAIN ({options}) {query}").fetchall()))
    conn.execute("RESET ROLE")
    assert_no_leak("\n".join(plans), persona.forbidden, f"EXPLAIN as {who}")


@pytest.mark.parametrize("who", ["allowed", "not_allowed", "hidden", "other_club", "support"])
def test_leaky_function_sees_only_what_the_view_shows(conn, world, who):
    persona = world["personas"][who]
    home, other = world["home"], world["other"]
    probe = f"public.leak_{world['sfx']}"
    conn.execute(f"""CREATE FUNCTION {probe}(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
                     BEGIN RAISE NOTICE 'saw %', $1; RETURN true; END $$""")
    conn.execute(f"GRANT EXECUTE ON FUNCTION {probe}(text) TO PUBLIC")
    forbidden = persona.forbidden
    if who == "support":
        grant_support(conn)
        forbidden = granted_support_forbidden(world)
    seen: list[str] = []
    conn.add_notice_handler(lambda diag: seen.append(diag.message_primary or ""))
    as_role(conn, persona.role)
    for query in (f"SELECT count(*) FROM club_app.customers WHERE {probe}(cpr) AND {probe}(bank_account)",
                  f"SELECT count(*) FROM club_app.customers WHERE {probe}(email) AND {probe}(last_name)",
                  f"SELECT count(*) FROM club_app.customers WHERE id = {int(other.id)} AND {probe}(cpr)",
                  f"SELECT count(*) FROM club_app.customers WHERE club_id = 1 AND {probe}(cpr)",
                  f"SELECT count(*) FROM club_app.custom_field_values WHERE {probe}(value)",
                  f"SELECT count(*) FROM club_app.customers c WHERE EXISTS (SELECT FROM club_app.custom_field_values v "
                  f"WHERE v.customer_id = c.id AND {probe}(v.value || c.cpr))"):
        conn.execute(query).fetchall()
    conn.execute("RESET ROLE")
    assert seen, "the probe ran"
    assert_no_leak("\n".join(seen), forbidden, f"leaky function as {who}")
    if who == "allowed":
        assert any(home.cpr in s for s in seen)  # it does see its own club's values
    if who in ("not_allowed", "support"):
        assert any(MASK in s for s in seen)


# -- every gdpr function the persona may execute -------------------------------------

def executable_functions(conn, role: str) -> list[dict]:
    return conn.cursor(row_factory=psycopg.rows.dict_row).execute(
        """SELECT p.oid, p.proname, p.prosecdef, p.pronargs, p.pronargdefaults, p.proretset,
                  COALESCE(p.proargnames, '{}') AS argnames,
                  ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) t) AS argtypes,
                  format_type(p.prorettype, NULL) AS rettype
             FROM pg_proc p
            WHERE p.pronamespace = 'gdpr'::regnamespace AND p.prokind = 'f'
              AND has_schema_privilege(%s, 'gdpr', 'USAGE')
              AND has_function_privilege(%s, p.oid, 'EXECUTE')
            ORDER BY p.proname, p.oid""", (role, role),
        ).fetchall()


def argument_vectors(fn: dict, persona: str, tenant: str, subject: int) -> list[list]:
    """Plausible arguments by name and type, for the subject and tenant given."""
    values = []
    for i, typ in enumerate(fn["argtypes"]):
        name = fn["argnames"][i] if i < len(fn["argnames"]) else ""
        if "kind" in name:
            value = "customer"
        elif "tenant" in name or "club" in name:
            value = tenant if typ == "text" else int(tenant)
        elif "area" in name:
            value = "customers"
        elif "role" in name or "group" in name or typ == "name":
            value = persona
        elif "purpose" in name:
            value = "test"
        elif "format" in name:
            value = None
        elif typ in ("bigint", "integer", "smallint", "numeric"):
            value = subject
        elif typ == "text" and ("subject" in name or "key" in name or "customer" in name or name.endswith("_id")):
            value = str(subject)
        elif typ == "text":
            value = str(subject)
        elif typ.startswith("timestamp"):
            value = "now"
        elif typ == "boolean":
            value = True
        elif typ == "jsonb":
            value = "{}"
        elif typ.endswith("[]"):
            value = [str(subject)] if typ.startswith("text") or typ.startswith("name") else [subject]
        elif typ == "regclass":
            value = "club.customers"
        elif typ == "oid":
            value = None
        else:
            value = None
        values.append((value, typ))
    required = fn["pronargs"] - fn["pronargdefaults"]
    vectors = [values]
    if required < len(values):
        vectors.append(values[:required])
    return vectors


def call_all(conn, persona: Persona, fns: list[dict], targets: list[tuple[str, int]]) -> tuple[str, int]:
    """Call every function with each target (tenant, subject); returns all output and errors."""
    out = []
    calls = 0
    for fn in fns:
        if fn["rettype"] in ("trigger", "event_trigger") or any(t in ("internal", "anyelement") for t in fn["argtypes"]):
            continue
        for tenant, subject in targets:
            for vector in argument_vectors(fn, persona.role, tenant, subject):
                args = sql.SQL(", ").join(
                    sql.SQL("now() + interval '1 hour'") if v == "now" else
                    sql.SQL("{}::{}").format(sql.Literal(v), sql.SQL(t)) for v, t in vector)
                query = sql.SQL("SELECT * FROM gdpr.{}({})").format(sql.Identifier(fn["proname"]), args)
                with conn.transaction(force_rollback=True):
                    conn.execute("SET LOCAL statement_timeout = '5s'")
                    as_role(conn, persona.role)
                    calls += 1
                    try:
                        out.append(f"{fn['proname']}: {conn.execute(query).fetchall()!r}")
                    except psycopg.Error as exc:
                        out.append(f"{fn['proname']}: {exc} {exc.diag.message_detail} {exc.diag.message_hint}")
    return "\n".join(out), calls


@pytest.mark.parametrize("who", PERSONAS)
def test_every_executable_gdpr_function(conn, world, who):
    persona = world["personas"][who]
    home, other = world["home"], world["other"]
    fns = executable_functions(conn, persona.role)
    definers = {fn["proname"] for fn in fns if fn["prosecdef"]}
    if who == "nobody":
        assert fns == [], "a role with no grants can execute gdpr functions"
        return
    allow = SUPPORT_DEFINER_ALLOW if who == "support" else STAFF_DEFINER_ALLOW
    assert definers <= allow, f"{who} may execute unreviewed SECURITY DEFINER functions: {definers - allow}"
    if who != "support":
        assert {"sensitive_access_of", "rights_overview"} <= definers
    targets = [("1", home.id), ("2", other.id), ("1", other.id), ("2", home.id)]
    output, calls = call_all(conn, persona, fns, targets)
    assert calls > 10
    assert_no_leak(output, persona.forbidden, f"gdpr functions as {who}")
    # the engine's report and export, when installed, prove access as well as denial
    if "insight_report" in definers and who in ("allowed", "not_allowed", "hidden"):
        as_role(conn, persona.role)
        report = repr(conn.execute("SELECT gdpr.insight_report('customer', %s, '1')", (str(home.id),)).fetchone())
        rows = repr(conn.execute("SELECT * FROM gdpr.insight_rows('customer', %s, '1')", (str(home.id),)).fetchall())
        conn.execute("RESET ROLE")
        assert home.email in report and home.email in rows
        if who == "allowed":
            assert home.cpr in report and home.secret in rows
        else:
            assert home.cpr not in report + rows and home.secret not in report + rows
            if who == "not_allowed":
                assert MASK in report and MASK in rows


def test_rights_overview_shows_own_club_only(conn, world):
    as_role(conn, world["personas"]["other_club"].role)
    groups = conn.execute("SELECT DISTINCT tenant FROM gdpr.rights_overview()").fetchall()
    assert groups == [("2",)]
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM gdpr.rights_overview('1')")
    # nobody can ask on the support role's behalf which clubs granted access
    assert conn.execute("SELECT gdpr.support_tenants('pgdpr_support')").fetchone()[0] == []
    conn.execute("RESET ROLE")


def test_staff_cannot_reach_the_rights_tables(conn, world):
    for who in ("allowed", "not_allowed", "other_club", "support"):
        for table in ("gdpr.staff_group", "gdpr.group_right", "gdpr.support_grant", "gdpr.audit_event",
                      "gdpr.catalog_column"):
            with conn.transaction(force_rollback=True):
                as_role(conn, world["personas"][who].role)
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(f"SELECT * FROM {table}")
        with conn.transaction(force_rollback=True):
            as_role(conn, world["personas"][who].role)
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute("SELECT gdpr.set_right(%s, 'customers', 'view_sensitive', 'allowed')",
                             (f"grp_hidden_{world['sfx']}",))
