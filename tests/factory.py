"""Small, explicit test data: one club, customers with a row in every linked table,
with known values so tests can look for them. (Bulk realistic data is `pgdpr demo seed`.)"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import psycopg

_numbers = itertools.count(1)


@dataclass
class Customer:
    club_id: int
    id: int
    customer_no: str
    first_name: str
    last_name: str
    email: str
    phone: str
    cpr: str
    bank_reg: str
    bank_account: str
    secret_field: str  # the value of a custom field marked sensitive


def make_club(conn: psycopg.Connection, club_id: int, name: str | None = None,
              time_zone: str = "Europe/Copenhagen") -> int:
    conn.execute("INSERT INTO club.clubs (id, name, time_zone) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                 (club_id, name or f"Club {club_id}", time_zone))
    conn.execute("""INSERT INTO club.custom_fields (club_id, name, is_sensitive) VALUES
                    (%s, 'Skostørrelse', false), (%s, 'Helbredsoplysning', true) ON CONFLICT DO NOTHING""",
                 (club_id, club_id))
    conn.execute("INSERT INTO club.resources (club_id, name) SELECT %s, 'Bane 1' "
                 "WHERE NOT EXISTS (SELECT FROM club.resources WHERE club_id = %s)", (club_id, club_id))
    conn.execute("""INSERT INTO club.classes (club_id, name, starts_at)
                    SELECT %s, 'Spinning', now() - interval '30 days'
                    WHERE NOT EXISTS (SELECT FROM club.classes WHERE club_id = %s)""", (club_id, club_id))
    return club_id


def make_customer(conn: psycopg.Connection, club_id: int, *, first_name: str = "Mette",
                  last_name: str | None = None, months_inactive: int = 0, rows_per_table: int = 2) -> Customer:
    """A customer with `rows_per_table` rows in every customer-linked table, the newest
    activity `months_inactive` months ago; identifying values are unique per call."""
    n = next(_numbers)
    last_name = last_name or f"Testesen{n}"
    email = f"{first_name.lower()}.{last_name.lower()}@example.dk"
    phone = f"+45 {20000000 + n}"
    cpr = f"0101{70 + n % 30:02d}{1000 + n:04d}"
    bank_reg, bank_account = "1234", f"{9000000 + n}"
    secret = f"diabetes-{n}"
    address_id = conn.execute(
        "INSERT INTO club.addresses (club_id, street, postcode, city) VALUES (%s, %s, '8000', 'Aarhus C') "
        "RETURNING id", (club_id, f"Testvej {n}")).fetchone()[0]
    customer_id = conn.execute(
        """INSERT INTO club.customers (club_id, customer_no, first_name, last_name, address_id, email, phone,
               birth_date, cpr, bank_reg, bank_account, photo, member_card, key_fob, member_since)
           VALUES (%s, %s, %s, %s, %s, %s, %s, club.cpr_birth_date(%s), %s, %s, %s, '\\x89504e47', %s, %s,
                   current_date - 800)
           RETURNING id""",
        (club_id, f"K{n:06d}", first_name, last_name, address_id, email, phone, cpr, cpr, bank_reg,
         bank_account, f"CARD{n:06d}", f"FOB{n:06d}")).fetchone()[0]
    at = f"{months_inactive} months"
    for i in range(rows_per_table):
        offset = f"{i} days"
        conn.execute("""INSERT INTO club.class_enrollments (club_id, class_id, customer_id, enrolled_at, attended)
                        SELECT %s, min(id), %s, now() - %s::interval - %s::interval, true
                          FROM club.classes WHERE club_id = %s""", (club_id, customer_id, at, offset, club_id))
        conn.execute("""INSERT INTO club.account_movements (club_id, customer_id, amount, text, payment_reference,
                            booked_at)
                        VALUES (%s, %s, -299.00, %s, %s, now() - %s::interval - %s::interval)""",
                     (club_id, customer_id, f"Kontingent {first_name} {last_name}", f"PAY-{n}-{i}", at, offset))
        conn.execute("""INSERT INTO club.table_bookings (club_id, customer_id, booked_for, party_size, note,
                            created_at)
                        VALUES (%s, %s, now() - %s::interval - %s::interval, 4, %s,
                                now() - %s::interval - %s::interval)""",
                     (club_id, customer_id, at, offset, f"Bord til {first_name}, ring på {phone}", at, offset))
        conn.execute("""INSERT INTO club.reservations (club_id, customer_id, resource_id, starts_at, ends_at)
                        SELECT %s, %s, min(id), now() - %s::interval - %s::interval,
                               now() - %s::interval - %s::interval + interval '1 hour'
                          FROM club.resources WHERE club_id = %s""",
                     (club_id, customer_id, at, offset, at, offset, club_id))
        conn.execute("""INSERT INTO club.activities (club_id, customer_id, kind, occurred_at)
                        VALUES (%s, %s, 'check_in', now() - %s::interval - %s::interval)""",
                     (club_id, customer_id, at, offset))
        conn.execute("""INSERT INTO club.log_lines (club_id, customer_id, written_at, text)
                        VALUES (%s, %s, now() - %s::interval - %s::interval, %s)""",
                     (club_id, customer_id, at, offset,
                      f"{first_name.upper()} {last_name} ringede fra {phone} om CPR {cpr}, mail {email}"))
        conn.execute("""INSERT INTO club.notes (club_id, customer_id, written_at, text)
                        VALUES (%s, %s, now() - %s::interval - %s::interval, %s)""",
                     (club_id, customer_id, at, offset, f"Note om {last_name.lower()}: kunde K{n:06d}"))
    conn.execute("""INSERT INTO club.consents (club_id, customer_id, consent_type, version, given_at, evidence)
                    VALUES (%s, %s, 'terms', 'v3', now() - interval '800 days', %s),
                           (%s, %s, 'photo_marketing', NULL, now() - interval '700 days', %s)""",
                 (club_id, customer_id, f"Accepteret online af {email}",
                  club_id, customer_id, f"Underskrevet af {first_name} {last_name}"))
    conn.execute("""INSERT INTO club.custom_field_values (club_id, customer_id, field_id, is_sensitive, value)
                    SELECT %s, %s, f.id, f.is_sensitive, CASE WHEN f.is_sensitive THEN %s ELSE '42' END
                      FROM club.custom_fields f WHERE f.club_id = %s""",
                 (club_id, customer_id, secret, club_id))
    return Customer(club_id, customer_id, f"K{n:06d}", first_name, last_name, email, phone, cpr, bank_reg,
                    bank_account, secret)
