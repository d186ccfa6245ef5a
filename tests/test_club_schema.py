"""The reference club schema: validation with clear messages that never echo the value."""

import psycopg
import pytest

from factory import make_club


@pytest.fixture
def club(conn):
    return make_club(conn, 1)


def insert_customer(conn, club_id=1, no="K1", **values):
    columns = ["club_id", "customer_no", "first_name", "last_name", *values]
    placeholders = ", ".join(["%s"] * len(columns))
    conn.execute(f"INSERT INTO club.customers ({', '.join(columns)}) VALUES ({placeholders})",
                 [club_id, no, "Mette", "Hansen", *values.values()])


@pytest.mark.parametrize("cpr, birth", [
    ("0101901234", "1990-01-01"),   # 7th digit 1: 1900-1999
    ("2902414123", None),           # 7th digit 4, 41 > 36: 1941, not a leap year
    ("0103154000", "2015-03-01"),   # 7th digit 4, 15 <= 36: 2000s
    ("0103585000", "1858-03-01"),   # 7th digit 5, 58 > 57: 1800s
    ("0103575000", "2057-03-01"),   # 7th digit 5, 57 <= 57: 2000s
    ("3112999999", "1999-12-31"),   # 7th digit 9, 99 > 36: 1900s
    ("2902004000", "2000-02-29"),   # leap day of 2000
])
def test_cpr_century_rule(conn, cpr, birth):
    assert str(conn.execute("SELECT club.cpr_birth_date(%s)", (cpr,)).fetchone()[0]) == str(birth)


def test_cpr_without_modulus_11_check_digit_is_accepted(conn, club):
    # 0101901235: weights 4,3,2,7,6,5,4,3,2,1 give 95, not divisible by 11
    digits = [int(d) for d in "0101901235"]
    assert sum(w * d for w, d in zip([4, 3, 2, 7, 6, 5, 4, 3, 2, 1], digits)) % 11 != 0
    insert_customer(conn, cpr="0101901235")


@pytest.mark.parametrize("cpr, message", [
    ("010190-1234", "invalid CPR number: it must be exactly 10 digits"),
    ("123", "invalid CPR number: it must be exactly 10 digits"),
    ("3202901234", "invalid CPR number: the first six digits are not a real date"),
    ("2902014000", "invalid CPR number: the first six digits are not a real date"),  # 2001 not a leap year
])
def test_invalid_cpr_is_refused_without_echoing_it(conn, club, cpr, message):
    with pytest.raises(psycopg.errors.CheckViolation) as error:
        insert_customer(conn, cpr=cpr)
    assert message in str(error.value)
    assert cpr not in str(error.value) and cpr not in (error.value.diag.message_detail or "")


@pytest.mark.parametrize("reg, account, message", [
    ("123", "12345", "bank registration number: it must be exactly 4 digits"),
    ("12345", "12345", "bank registration number: it must be exactly 4 digits"),
    ("1234", "12345678901", "bank account number: it must be 1 to 10 digits"),
    ("1234", "12a4", "bank account number: it must be 1 to 10 digits"),
    ("1234", None, "give both or neither"),
])
def test_bank_numbers_are_validated(conn, club, reg, account, message):
    with pytest.raises(psycopg.errors.CheckViolation, match=message):
        insert_customer(conn, bank_reg=reg, bank_account=account)


def test_valid_bank_numbers(conn, club):
    insert_customer(conn, bank_reg="0040", bank_account="1")
    insert_customer(conn, no="K2", bank_reg="9999", bank_account="1234567890")


def test_unknown_time_zone_is_refused(conn):
    with pytest.raises(psycopg.errors.CheckViolation, match="unknown time zone 'Europe/Aarhus'"):
        conn.execute("INSERT INTO club.clubs (id, name, time_zone) VALUES (9, 'x', 'Europe/Aarhus')")


def test_uniqueness_is_per_club(conn):
    make_club(conn, 1)
    make_club(conn, 2)
    insert_customer(conn, 1, cpr="0101901234", member_card="C1")
    insert_customer(conn, 2, cpr="0101901234", member_card="C1")  # same values in another club: fine
    with pytest.raises(psycopg.errors.UniqueViolation):
        insert_customer(conn, 1, no="K2", cpr="0101901234")


def test_custom_field_sensitivity_follows_its_definition(conn, club):
    insert_customer(conn)
    field = conn.execute("SELECT id FROM club.custom_fields WHERE club_id = 1 AND NOT is_sensitive").fetchone()[0]
    conn.execute("""INSERT INTO club.custom_field_values (club_id, customer_id, field_id, is_sensitive, value)
                    SELECT 1, id, %s, false, 'x' FROM club.customers""", (field,))
    conn.execute("UPDATE club.custom_fields SET is_sensitive = true WHERE id = %s", (field,))
    assert conn.execute("SELECT bool_and(is_sensitive) FROM club.custom_field_values").fetchone()[0]
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("UPDATE club.custom_field_values SET is_sensitive = false")


def test_every_customer_linked_table_has_a_customer_index(conn):
    missing = conn.execute("""
        SELECT c.conrelid::regclass::text FROM pg_constraint c
         WHERE c.contype = 'f' AND c.confrelid = 'club.customers'::regclass
           AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.conrelid
                            AND (i.indkey::int2[])[0:1] = c.conkey[1:2]::int2[])""").fetchall()
    assert missing == []
