"""Redaction of Danish free text as staff write it, and of mentions in other subjects'
rows (erasure, GDPR Art. 17). The table of spellings: each row one way staff write one
of the subject's values; after the erasure it is gone from the subject's own log line,
and, where the form is specific to the subject, from a note on another customer. Runs
in the suite's database and in one created with LC_COLLATE/LC_CTYPE 'C' (where the
regular expressions' case-insensitivity and [[:alnum:]] know ASCII only)."""

from __future__ import annotations

import itertools

import psycopg
import pytest

from conftest import dsn_for
from pgdpr.catalog import apply as apply_catalog
from pgdpr.migrate import install_mention_indexes, migrate
from pgdpr.resources import resource_dir

_clubs = itertools.count(100)

SUBJECT = dict(first_name="Ingeborg Marie", last_name="Østergaard-Ærenlund", email="ingeborg.oa@example.dk",
               phone="+45 20998877", cpr="2707524890", bank_reg="1234", bank_account="9000007",
               customer_no="K004711", member_card="CARD004711", key_fob="FOB004711",
               street="Østergade 12", postcode="8000", city="Aarhus C")

# (spelling, what must be gone from ANOTHER customer's note that quotes it; None: the
# form is not specific to the subject — a family-name part alone, a postcode and city
# — and stays in other people's rows)
SPELLINGS = [
    # names: space or hyphen between parts, each part, the genitive, a title, case, æøå
    ("Ingeborg Marie Østergaard-Ærenlund", "Østergaard"),
    ("ingeborg marie østergaard-ærenlund", "østergaard"),
    ("INGEBORG MARIE ØSTERGAARD ÆRENLUND", "ØSTERGAARD"),
    ("Ingeborg Østergaard", "Ingeborg Østergaard"),
    ("Marie Ærenlund", "Marie Ærenlund"),
    ("Østergaard-Ærenlunds regning", "Ærenlund"),
    ("Hr. Ærenlund", "Ærenlund"),
    ("hr ærenlund", "ærenlund"),
    ("Fru Østergaard", "Østergaard"),
    ("Østergaards", None),
    ("ærenlund", None),
    ("ØSTERGAARD", None),
    ("Østergård", None),
    ("Oestergaard", None),
    ("Aerenlund", None),
    ("ingeborg", None),
    # the phone without +45, with spaces, dashes or pairs
    ("20998877", "20998877"),
    ("20 99 88 77", "20 99 88 77"),
    ("2099 8877", "2099 8877"),
    ("20-99-88-77", "20-99-88-77"),
    ("+45 20 99 88 77", "20 99 88 77"),
    ("0045 20998877", "20998877"),
    ("tlf.20998877", "20998877"),
    # the e-mail and its local part
    ("ingeborg.oa@example.dk", "ingeborg.oa"),
    ("INGEBORG.OA@EXAMPLE.DK", "INGEBORG.OA"),
    ("skriv til ingeborg.oa", "ingeborg.oa"),
    # CPR in every spelling of gdpr.masked_number_pattern()'s table
    ("2707524890", "2707524890"),
    ("270752-4890", "270752-4890"),
    ("27.07.52-4890", "27.07.52-4890"),
    ("270752 4890", "270752 4890"),
    ("2 7 0 7 5 2 4 8 9 0", "2 7 0 7 5 2 4 8 9 0"),
    ("CPR2707524890", "2707524890"),
    ("cpr_270752-4890", "270752-4890"),
    ("2707524890a", "2707524890"),
    ("27071952-4890", "27071952-4890"),
    ("1952-07-27 4890", "1952-07-27 4890"),
    # bank registration and account number, alone and together
    ("reg.nr. 1234", None),
    ("konto 9000007", "9000007"),
    ("1234 9000007", "9000007"),
    ("1234-9000007", "9000007"),
    ("reg. 1234 kontonr. 9000007", "9000007"),
    # the address line and postcode-city of the owned address row
    ("Østergade 12", "Østergade 12"),
    ("østergade 12", "østergade 12"),
    ("Østergade 12, 8000 Aarhus C", "Østergade 12"),
    ("8000 Aarhus C", None),
    ("8000 Århus C", None),
    # customer number, member card, key fob
    ("K004711", "K004711"),
    ("kunde k004711", "k004711"),
    ("CARD004711", "CARD004711"),
    ("FOB004711", "FOB004711"),
]

CPR_SPELLINGS = [s for s, _ in SPELLINGS if "4890" in "".join(c for c in s if c.isdigit())]
# the words around a value in the spellings above (not the subject's)
FILLER = {"regning", "reg.nr.", "konto", "reg.", "kontonr.", "tlf.", "skriv", "til", "kunde", "CPR", "cpr_", "a", ","}


def install_c_locale_database(server_dsn: str, admin_conn) -> str:
    name = "pgdpr_redaction_c_locale"
    admin_conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin_conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
                       "LC_COLLATE 'C' LC_CTYPE 'C'")
    dsn = dsn_for(server_dsn, name)
    migrate(dsn, club_schema=True)
    with psycopg.connect(dsn, autocommit=True) as conn:
        apply_catalog(conn, resource_dir("catalogs") / "club.toml")
    return dsn


@pytest.fixture(scope="module")
def c_locale_dsn(server_dsn, admin_conn, template_db):
    dsn = install_c_locale_database(server_dsn, admin_conn)
    yield dsn
    admin_conn.execute("DROP DATABASE IF EXISTS pgdpr_redaction_c_locale WITH (FORCE)")


@pytest.fixture(params=["default", "C"])
def any_locale(request, db_dsn):
    if request.param == "default":
        dsn = db_dsn
    else:
        dsn = request.getfixturevalue("c_locale_dsn")
    with psycopg.connect(dsn, autocommit=True) as conn:
        if request.param == "C":
            assert conn.execute("SELECT datctype FROM pg_database WHERE datname = current_database()"
                                ).fetchone()[0] == "C"
        yield conn


def make_subject(conn, club: int, **values) -> int:
    v = {**SUBJECT, **values}
    conn.execute("INSERT INTO club.clubs (id, name) VALUES (%s, %s)", (club, f"Klub {club}"))
    address = conn.execute("INSERT INTO club.addresses (club_id, street, postcode, city) VALUES (%s, %s, %s, %s) "
                           "RETURNING id", (club, v["street"], v["postcode"], v["city"])).fetchone()[0]
    return conn.execute(
        """INSERT INTO club.customers (club_id, customer_no, first_name, last_name, address_id, email, phone, cpr,
                                       bank_reg, bank_account, member_card, key_fob)
           VALUES (%(club)s, %(customer_no)s, %(first_name)s, %(last_name)s, %(address)s, %(email)s, %(phone)s,
                   %(cpr)s, %(bank_reg)s, %(bank_account)s, %(member_card)s, %(key_fob)s) RETURNING id""",
        {**v, "club": club, "address": address}).fetchone()[0]


def make_other(conn, club: int, first_name="Mette", last_name="Hansen") -> int:
    n = next(_clubs)
    return conn.execute(
        """INSERT INTO club.customers (club_id, customer_no, first_name, last_name, email, phone)
           VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
        (club, f"K9{n:05d}", first_name, last_name, f"{first_name.lower()}{n}@example.dk", f"+45 3{n:07d}")
    ).fetchone()[0]


def erase(conn, club: int, customer: int) -> dict:
    return conn.execute("SELECT gdpr.anonymize('customer', %s, 'anmodning', %s)",
                        (str(customer), str(club))).fetchone()[0]


@pytest.mark.parametrize("spelling, in_mention", SPELLINGS, ids=[s for s, _ in SPELLINGS])
def test_each_spelling_is_redacted(any_locale, spelling, in_mention):
    conn = any_locale
    club = next(_clubs)
    subject = make_subject(conn, club)
    other = make_other(conn, club)
    own = f"Samtale: {spelling} ringede"
    note = f"Bemærk: {spelling} har betalt for Mette"
    conn.execute("INSERT INTO club.log_lines (club_id, customer_id, text) VALUES (%s, %s, %s)", (club, subject, own))
    conn.execute("INSERT INTO club.notes (club_id, customer_id, text) VALUES (%s, %s, %s)", (club, other, note))

    assert erase(conn, club, subject)["status"] == "anonymized"

    (own_after,) = conn.execute("SELECT text FROM club.log_lines WHERE club_id = %s AND customer_id = %s",
                                (club, subject)).fetchone()
    assert "[anonymiseret]" in own_after, own_after
    left = own_after.removeprefix("Samtale: ").removesuffix(" ringede").replace("[anonymiseret]", " ")
    assert set(left.split()) <= FILLER, own_after  # nothing of the value is left
    (note_after,) = conn.execute("SELECT text FROM club.notes WHERE club_id = %s AND customer_id = %s",
                                 (club, other)).fetchone()
    if in_mention is None:
        assert note_after == note  # not specific to the subject: another person's text keeps it
    else:
        assert in_mention not in note_after and "[anonymiseret]" in note_after, note_after
        assert note_after.endswith("har betalt for Mette")  # the other customer's own name stays


def test_the_cpr_spellings_are_the_masked_number_shapes(conn):
    """The CPR rows of the table are spellings gdpr.masked_number_pattern() knows as
    CPR-shaped: the table covers the security issue's shapes, for this subject."""
    pattern = conn.execute("SELECT gdpr.masked_number_pattern()").fetchone()[0]
    for spelling in CPR_SPELLINGS:
        assert conn.execute("SELECT %s ~ %s", (spelling, pattern)).fetchone()[0], spelling
    assert len(CPR_SPELLINGS) >= 10


def test_lower_case_danish_letters_in_a_c_locale_database(c_locale_dsn):
    """The reported failure: in a 'C' database 'ærenlund' did not match 'Ærenlund'
    (the 'i' flag folds ASCII only) and 'ø' did not count as a letter."""
    with psycopg.connect(c_locale_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT 'ærenlund' ~* 'Ærenlund', 'ø' ~ '[[:alnum:]]'").fetchone() == (False, False)
        pattern = conn.execute("SELECT gdpr.redact_pattern(ARRAY['Ingeborg', 'Ærenlund'], ARRAY[]::text[])"
                               ).fetchone()[0]
        assert conn.execute("SELECT gdpr.redact('hr. ærenlund og ÆRENLUND og ærenlunds', %s)",
                            (pattern,)).fetchone()[0] == "[anonymiseret] og [anonymiseret] og [anonymiseret]"
        # a name inside a longer word is not cut out of it, also next to æøå
        assert conn.execute("SELECT gdpr.redact('Ærenlundø Bærenlund', %s)", (pattern,)).fetchone()[0] == \
            "Ærenlundø Bærenlund"


def test_mentions_in_other_subjects_rows(conn):
    """A note on another customer naming the erased one, a log line of a customer erased
    earlier, a booking note and a payment text of a third: all lose the subject's forms,
    in the tenant only; a first name alone stays (it is anyone's)."""
    club, elsewhere = next(_clubs), next(_clubs)
    subject = make_subject(conn, club)
    other, erased_before, third = make_other(conn, club), make_other(conn, club, "Ole"), make_other(conn, club, "Bo")
    conn.execute("INSERT INTO club.clubs (id, name) VALUES (%s, 'Anden klub')", (elsewhere,))
    foreign = make_other(conn, elsewhere)
    texts = {
        ("notes", other): "Ingeborg Østergaard ringer tilbage på 20 99 88 77",
        ("log_lines", erased_before): "Ole spurgte efter fru Ærenlund",
        ("table_bookings", third): "Bord sammen med ingeborg.oa@example.dk",
        ("notes", foreign): "Ingeborg Østergaard 20998877",
        ("log_lines", other): "Ingeborg kommer i morgen",
    }
    for (table, customer), text in texts.items():
        c = elsewhere if customer == foreign else club
        if table == "table_bookings":
            conn.execute("INSERT INTO club.table_bookings (club_id, customer_id, booked_for, party_size, note) "
                         "VALUES (%s, %s, now(), 2, %s)", (c, customer, text))
        else:
            conn.execute(f"INSERT INTO club.{table} (club_id, customer_id, text) VALUES (%s, %s, %s)",
                         (c, customer, text))
    conn.execute("INSERT INTO club.account_movements (club_id, customer_id, amount, text, booked_at) "
                 "VALUES (%s, %s, -100, 'Betalt for Marie Ærenlund', now())", (club, third))
    assert erase(conn, club, erased_before)["status"] == "anonymized"

    assert erase(conn, club, subject)["proof"]["verdict"] == "erased"

    def text_of(table, customer, column="text"):
        return conn.execute(f"SELECT {column} FROM club.{table} WHERE customer_id = %s", (customer,)).fetchone()[0]

    assert text_of("notes", other) == "[anonymiseret] ringer tilbage på [anonymiseret]"
    assert text_of("log_lines", erased_before) == "[anonymiseret] spurgte efter [anonymiseret]"  # Ole: erased before
    assert text_of("table_bookings", third, "note") == "Bord sammen med [anonymiseret]"
    assert text_of("account_movements", third) == "Betalt for [anonymiseret]"
    assert text_of("log_lines", other) == "Ingeborg kommer i morgen"
    assert text_of("notes", foreign) == "Ingeborg Østergaard 20998877"  # another club: another controller


def test_the_mention_search_uses_the_engines_trigram_index(conn):
    have_trgm = conn.execute("SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_trgm')"
                             ).fetchone()[0]
    if not have_trgm:
        pytest.skip("pg_trgm is not available on this server")
    indexes = {r[0] for r in conn.execute(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indexrelid::regclass::text LIKE '%gdpr_mention'")}
    assert {"club.log_lines_text_gdpr_mention", "club.notes_text_gdpr_mention",
            "club.table_bookings_note_gdpr_mention", "club.account_movements_text_gdpr_mention"} <= indexes
    conn.execute("SET enable_seqscan = off")
    plan = "\n".join(r[0] for r in conn.execute(
        "EXPLAIN SELECT FROM club.log_lines a WHERE gdpr.mention_text(a.text) LIKE ANY (ARRAY['%20998877%'])"))
    assert "log_lines_text_gdpr_mention" in plan
    # a second run changes nothing; an index of another gdpr.mention_text is rebuilt,
    # concurrently by the CLI's migrate (outside any transaction)
    assert conn.execute("SELECT count(*) FROM gdpr.mention_index_plan()").fetchone()[0] == 0
    assert conn.execute("SELECT gdpr.install_mention_indexes()").fetchone()[0] == 0
    conn.execute("COMMENT ON INDEX club.notes_text_gdpr_mention IS 'older version'")
    plan = [s for (s,) in conn.execute("SELECT statement FROM gdpr.mention_index_plan() ORDER BY step")]
    assert [s.split(" ON ")[0] for s in plan[:2]] == [
        "DROP INDEX CONCURRENTLY club.notes_text_gdpr_mention", "CREATE INDEX CONCURRENTLY notes_text_gdpr_mention"]
    assert install_mention_indexes(conn.info.dsn) == 3
    assert conn.execute("SELECT count(*) FROM gdpr.mention_index_plan()").fetchone()[0] == 0


def test_the_guard_pass_is_the_engines_alone(conn):
    """The erasure opens the guard for its own rewrite of mentions only: the pass table
    is not writable by staff or by the erasure group, and is empty after an erasure."""
    for role in ("pgdpr_staff", "pgdpr_erasure", "pgdpr_admin"):
        assert not conn.execute("SELECT has_table_privilege(%s, 'gdpr.erasure_mention_pass', 'INSERT')",
                                (role,)).fetchone()[0]
    club = next(_clubs)
    subject = make_subject(conn, club)
    other = make_other(conn, club)
    conn.execute("INSERT INTO club.notes (club_id, customer_id, text) VALUES (%s, %s, 'ring 20998877')",
                 (club, other))
    erase(conn, club, subject)
    assert conn.execute("SELECT count(*) FROM gdpr.erasure_mention_pass").fetchone()[0] == 0
