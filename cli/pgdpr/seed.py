"""Realistic Danish demo data for the reference club schema (`pgdpr demo seed`).

Faker (da_DK) is slow, so it only makes *pools*: first and last names, streets,
postcodes and cities, e-mail domains, staff and club names. Python draws each
customer from the pools (names, CPR, bank account, member card, photo) and loads
customers and addresses with COPY, together with a per-customer *plan* (member since,
last activity, how many linked rows, flags) COPYed into a temporary table. SQL then
builds the millions of linked rows from the plan with generate_series, each table
inserted in time order (as a live system would write them, so one customer's rows
sit on many pages), pseudo-random values from hashint8extended() of the seed:
the same seed gives the same data.

Shape of the data (what the benchmarks and tests rely on):
- about 50 linked rows per customer on average; one customer in 1,000 (and always the
  8th) is "heavy" with about 1,000 linked rows;
- about 10% of customers have had no account movement, activity or reservation for
  6+ months (they are what the automatic anonymisation rule finds); the others were
  active within the last 5 months;
- some customers have a future table booking, some a negative balance (debt);
- CPR numbers: 10 digits, a real date, century from the 7th digit, unique per club;
  about 15% without a valid modulus-11 check digit (issued since 2007);
- log lines, notes, table-booking notes, payment texts and consent evidence mention the
  customer's name, phone or e-mail, as staff write them (erasure must redact them);
- every club has staff, classes, resources and custom fields, one of them sensitive.

Large loads (`bulk`, default from 10,000 customers) drop the foreign keys, the plain
indexes, and the primary keys and unique constraints no other foreign key needs, of
the loaded tables, inside the seeding transaction, and recreate them at the end: one
sorted index build per index and one validating join per foreign key instead of
index and trigger work per row (a duplicate or dangling key still fails the whole
load). New clubs get ids after the largest existing one, so seeding into a
database that already has clubs adds to it.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable

import psycopg

from pgdpr.db import PgdprError

# Linked-row mix: share of a customer's events per table (at least one row each).
TABLE_SHARES = {
    "activities": 0.40,
    "account_movements": 0.20,
    "class_enrollments": 0.12,
    "reservations": 0.10,
    "log_lines": 0.07,
    "table_bookings": 0.05,
    "notes": 0.03,
}
INACTIVE_PERCENT = 11       # of customers old enough to be inactive (~10% of all)
HEAVY_EVERY = 1000          # one heavy customer in HEAVY_EVERY (and always index 7)
HEAVY_EVENTS = 1030
DEBTOR_PERCENT = 4
FUTURE_BOOKING_PERCENT = 3
INVALID_MOD11_PERCENT = 15
HISTORY_YEARS = 6
STAFF_MAX = 16              # staff ids are allocated in blocks of STAFF_MAX per club
CLASS_TEMPLATES = ["Spinning", "Yoga", "Crossfit", "Pilates", "Zumba", "Boksefitness", "Svømning",
                   "Styrketræning"]
RESOURCES = ["Bane 1", "Bane 2", "Bane 3", "Padelbane", "Mødelokale", "Sauna"]
CUSTOM_FIELDS = [("Skostørrelse", False), ("T-shirt-størrelse", False), ("Helbredsoplysninger", True)]
HEALTH_VALUES = ["Astma", "Diabetes type 1", "Hjerteproblemer", "Knæoperation 2021", "Epilepsi", "Gravid",
                 "Allergi over for latex", "Rygproblemer", "Højt blodtryk", "Migræne"]
CLUB_KINDS = ["Fitness", "Tennisklub", "Padelcenter", "Svømmeklub", "Crossfit", "Idrætsforening",
              "Golfklub", "Restaurant & Bar"]
BULK_TABLES = ["addresses", "customers", "custom_field_values", "class_enrollments", "account_movements",
               "table_bookings", "reservations", "activities", "log_lines", "consents", "notes"]
# Free text as staff write it: %1$s first name, %2$s last name, %3$s phone, %4$s e-mail.
LOG_TEXTS = ["%1$s %2$s ringede fra %3$s om sin betaling", "Kunden (%1$s) har glemt sin nøglebrik",
             "Sendt rykker til %4$s", "%1$s %2$s ønsker at skifte hold", "Talt med %1$s i telefonen (%3$s)",
             "Medlemskab sat på pause efter ønske fra %1$s %2$s", "Ny e-mail registreret: %4$s",
             "%2$s klagede over ventetid ved skranken"]
NOTE_TEXTS = ["Foretrækker morgenhold. Kontakt %1$s på %3$s", "%1$s %2$s er frivillig træner",
              "Husk: %1$s vil ikke ringes op, skriv til %4$s", "Betaler for familien %2$s",
              "VIP-gæst, kender ejeren"]
BOOKING_NOTES = ["Bord til %1$s, ring på %3$s", "Fødselsdag: %1$s %2$s ønsker vinduesbord",
                 "Allergi: nødder. Kontakt %3$s", "Høj stol til barn", "Firmafrokost, faktura til %4$s"]
TRANSLIT = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u", "ö": "o", "ä": "a", " ": "",
                          "-": "", "'": ""})

Progress = Callable[[str], None]


@dataclass
class SeedReport:
    clubs: int
    customers: int
    club_ids: list[int]
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    bulk: bool = False

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {"clubs": self.clubs, "customers": self.customers, "club_ids": self.club_ids,
                "rows": self.rows, "total_rows": self.total_rows, "seconds": round(self.seconds, 2),
                "rows_per_second": round(self.rows_per_second), "bulk": self.bulk}


@dataclass
class Pools:
    first_names: list[str]
    last_names: list[str]
    streets: list[str]
    towns: list[tuple[str, str]]
    domains: list[str]
    club_names: list[str]
    staff_names: list[tuple[str, str]]


def _unique(values) -> list:
    return list(dict.fromkeys(values))


def make_pools(seed: int, clubs: int) -> Pools:
    """Realistic Danish values from Faker's da_DK locale (a few thousand calls)."""
    from faker import Faker

    fake = Faker("da_DK")
    fake.seed_instance(seed)
    towns = _unique((fake.postcode(), fake.city()) for _ in range(400))
    club_names = _unique(f"{fake.city()} {CLUB_KINDS[i % len(CLUB_KINDS)]}" for i in range(clubs * 3))
    club_names += [f"Klub {i}" for i in range(clubs)]  # never short of names
    return Pools(
        first_names=_unique(fake.first_name() for _ in range(1500)),
        last_names=_unique(fake.last_name() for _ in range(1500)),
        streets=_unique(fake.street_name() for _ in range(1500)),
        towns=[t for t in towns if len(t[0]) == 4 and t[0].isdigit()],
        domains=_unique(fake.free_email_domain() for _ in range(100)) + ["mail.dk", "jubii.dk", "live.dk"],
        club_names=_unique(club_names),
        staff_names=[(fake.first_name(), fake.last_name()) for _ in range(clubs * STAFF_MAX)],
    )


CPR_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)


def make_cpr(rng: random.Random, birth: date, valid_mod11: bool) -> str:
    """A CPR number for `birth`: the 7th digit follows the century rule; the last digit
    makes the modulus-11 sum 0 when valid_mod11, and anything else otherwise."""
    yy = birth.year % 100
    if birth.year < 2000:
        sevenths = [0, 1, 2, 3] + ([4, 9] if yy >= 37 else [])
    else:
        sevenths = [4, 9] + ([5, 6, 7, 8] if yy <= 36 else [])
    while True:
        head = f"{birth.day:02d}{birth.month:02d}{yy:02d}{rng.choice(sevenths)}{rng.randrange(100):02d}"
        total = sum(int(d) * w for d, w in zip(head, CPR_WEIGHTS))
        if valid_mod11:
            check = (-total) % 11
            if check == 10:
                continue
        else:
            check = rng.choice([c for c in range(10) if (total + c) % 11 != 0])
        return head + str(check)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), timezone.utc)


def _phone(idx: int, seed: int) -> str:
    # A bijection of idx modulo 80,000,000 (7919 is coprime with it): unique numbers.
    number = 20000000 + (idx * 7919 + seed * 104729) % 80000000
    s = f"{number:08d}"
    return f"+45 {s[0:2]} {s[2:4]} {s[4:6]} {s[6:8]}"


class _Loader:
    def __init__(self, conn: psycopg.Connection, report: SeedReport, progress: Progress | None):
        self.conn = conn
        self.report = report
        self.progress = progress or (lambda message: None)
        self.started = time.perf_counter()

    def count(self, table: str, rows: int) -> None:
        self.report.rows[table] = self.report.rows.get(table, 0) + rows

    def say(self, message: str) -> None:
        elapsed = time.perf_counter() - self.started
        total = self.report.total_rows
        self.progress(f"{message} ({total:,} rows in {elapsed:.1f} s, {total / max(elapsed, 1e-9):,.0f} rows/s)")

    def copy(self, table: str, columns: list[str], rows) -> int:
        n = 0
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
        return n

    def sql(self, table: str | None, statement: str, params=None) -> int:
        with self.conn.cursor() as cur:
            cur.execute(statement, params)
            if table:
                self.count(table, cur.rowcount)
                self.say(f"{table}: {cur.rowcount:,} rows")
            return cur.rowcount


def _existing_max(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT coalesce(max(id), 0) FROM club.{table}").fetchone()[0]


def _drop_for_bulk(conn: psycopg.Connection) -> list[str]:
    """Drop the foreign keys and plain indexes of the bulk tables; return the DDL that
    recreates them (indexes first, then keys, which validate with one join each)."""
    tables = [f"club.{t}" for t in BULK_TABLES]
    indexes = conn.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
             FROM pg_index i
            WHERE i.indrelid = ANY (%s::regclass[])
              AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)
              AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.refobjid = i.indexrelid
                                AND d.classid = 'pg_constraint'::regclass)""", (tables,)).fetchall()
    keys = conn.execute(
        """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
             FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY (%s::regclass[])
            ORDER BY conrelid::regclass::text, conname""", (tables,)).fetchall()
    recreate: list[str] = []
    for table, name, definition in keys:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    # Primary keys and unique constraints no remaining foreign key refers to: rebuilt by
    # one sorted index build each (a duplicate then fails the whole load at the end).
    uniques = conn.execute(
        """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
             FROM pg_constraint u
            WHERE contype IN ('p', 'u') AND conrelid = ANY (%s::regclass[])
              AND NOT EXISTS (SELECT FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = u.conindid)
            ORDER BY conrelid::regclass::text, contype, conname""", (tables,)).fetchall()
    for table, name, definition in uniques:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        recreate.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for name, definition in indexes:
        conn.execute(f"DROP INDEX {name}")
        recreate.append(definition)
    for table, name, definition in keys:
        recreate.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    return recreate


def seed(conn: psycopg.Connection, *, clubs: int, customers: int, seed: int = 1, anchor: date | None = None,
         bulk: bool | None = None, progress: Progress | None = None) -> SeedReport:
    """Add `clubs` clubs and `customers` customers with their linked rows, in one transaction.
    `anchor` is "today" of the data (default: today); the same seed and anchor give the same data."""
    if clubs < 1 or customers < 0:
        raise PgdprError("demo seed: --clubs must be at least 1 and --customers at least 0")
    if conn.execute("SELECT to_regclass('club.customers') IS NULL").fetchone()[0]:
        raise PgdprError("demo seed: the club schema is not installed; run `pgdpr migrate --club-schema` first")
    anchor = anchor or date.today()
    bulk = customers >= 10000 if bulk is None else bulk
    report = SeedReport(clubs=clubs, customers=customers, club_ids=[], bulk=bulk)
    pools = make_pools(seed, clubs)
    rng = random.Random(seed)
    started = time.perf_counter()
    with conn.transaction():
        loader = _Loader(conn, report, progress)
        # Serialise concurrent seeders: ids are chosen after the current maxima.
        conn.execute("LOCK TABLE club.clubs IN EXCLUSIVE MODE")
        # The generated statements are estimated at absurd costs (generate_series per
        # customer), which would JIT-compile each for ~0.3 s: pure overhead here.
        conn.execute("SET LOCAL jit = off")
        for setting, size_mb in (("work_mem", 256), ("maintenance_work_mem", 512)):
            current = conn.execute("SELECT setting::bigint * CASE unit WHEN 'kB' THEN 1 ELSE 8 END / 1024 "
                                   "FROM pg_settings WHERE name = %s", (setting,)).fetchone()[0]
            if current < size_mb:
                conn.execute(f"SET LOCAL {setting} = '{size_mb}MB'")
        base = {t: _existing_max(conn, t) for t in ("clubs", "customers", "addresses", "staff", "custom_fields",
                                                     "resources", "classes")}
        report.club_ids = [base["clubs"] + 1 + i for i in range(clubs)]
        recreate = _drop_for_bulk(conn) if bulk else []
        _load_clubs(loader, pools, rng, base, clubs, seed, anchor)
        _load_customers(loader, pools, rng, base, clubs, customers, seed, anchor)
        _load_linked(loader, seed)
        if recreate:
            loader.say(f"recreating {len(recreate)} keys and indexes")
            spent: dict[str, float] = {}
            for statement in recreate:
                kind = "foreign keys" if "FOREIGN KEY" in statement else "keys and indexes"
                began = time.perf_counter()
                conn.execute(statement)
                spent[kind] = spent.get(kind, 0.0) + time.perf_counter() - began
            loader.say("rebuilt " + ", ".join(f"{kind} in {s:.1f} s" for kind, s in spent.items()))
        for table in ("customers", "addresses", "staff", "custom_fields", "resources", "classes"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('club.{table}', 'id'), "
                         f"greatest((SELECT max(id) FROM club.{table}), 1))")
    report.seconds = time.perf_counter() - started
    loader.say("committed")
    for table in report.rows:  # fresh statistics: the planner sees the new rows at once
        conn.execute(f"ANALYZE club.{table}")
    return report


def _load_clubs(loader: _Loader, pools: Pools, rng: random.Random, base: dict, clubs: int, seed: int,
                anchor: date) -> None:
    conn = loader.conn
    club_rows = []
    for i in range(clubs):
        club_rows.append((base["clubs"] + 1 + i, pools.club_names[i], "Europe/Copenhagen",
                          _midnight(anchor)
                          - timedelta(days=365 * HISTORY_YEARS + 30)))
    loader.count("clubs", loader.copy("club.clubs", ["id", "name", "time_zone", "created_at"], club_rows))

    staff_rows, club_plan = [], []
    for i in range(clubs):
        club_id = base["clubs"] + 1 + i
        staff_count = 6 + rng.randrange(10)
        club_plan.append((i, club_id, staff_count))
        cprs = set()
        for j in range(staff_count):
            first, last = pools.staff_names[i * STAFF_MAX + j]
            birth = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 40))
            cpr = make_cpr(rng, birth, True)
            while cpr in cprs:
                cpr = make_cpr(rng, birth, True)
            cprs.add(cpr)
            login = f"{first}.{last}".lower().translate(TRANSLIT)
            staff_rows.append((club_id, base["staff"] + i * STAFF_MAX + j + 1, first, last,
                               f"{login}@klub{club_id}.dk", _phone(10_000_000 + i * STAFF_MAX + j, seed), cpr,
                               anchor - timedelta(days=rng.randrange(365 * HISTORY_YEARS))))
    loader.count("staff", loader.copy(
        "club.staff", ["club_id", "id", "first_name", "last_name", "email", "phone", "cpr", "hired_at"],
        staff_rows))

    conn.execute("""CREATE TEMP TABLE seed_club (club_ord int PRIMARY KEY, club_id bigint, staff_count int)
                    ON COMMIT DROP""")
    loader.copy("seed_club", ["club_ord", "club_id", "staff_count"], club_plan)
    conn.execute("""CREATE TEMP TABLE seed_text (kind text, n int, template text, PRIMARY KEY (kind, n))
                    ON COMMIT DROP""")
    texts = ([("log", i, t) for i, t in enumerate(LOG_TEXTS)] + [("note", i, t) for i, t in enumerate(NOTE_TEXTS)]
             + [("booking", i, t) for i, t in enumerate(BOOKING_NOTES)]
             + [("health", i, t) for i, t in enumerate(HEALTH_VALUES)])
    loader.copy("seed_text", ["kind", "n", "template"], texts)
    # Pseudo-random in [0, 1) from (customer index, row number, purpose): deterministic per seed.
    conn.execute(f"""CREATE OR REPLACE FUNCTION pg_temp.seed_u(p_a bigint, p_b bigint, p_salt int) RETURNS float8
                     LANGUAGE sql IMMUTABLE PARALLEL SAFE
                     AS $$ SELECT ((hashint8extended(p_a * 8192 + p_b, {int(seed)} * 1000 + p_salt) >> 8)
                                   & 2147483647)::float8 / 2147483648 $$""")

    loader.sql("custom_fields", """
        INSERT INTO club.custom_fields (club_id, id, name, is_sensitive)
        SELECT c.club_id, %(base)s + c.club_ord * 3 + f.n, f.name, f.sensitive
          FROM seed_club c, unnest(%(names)s::text[], %(flags)s::boolean[]) WITH ORDINALITY f(name, sensitive, n)
         ORDER BY 1, 2""", {"base": base["custom_fields"], "names": [n for n, _ in CUSTOM_FIELDS],
                            "flags": [s for _, s in CUSTOM_FIELDS]})
    loader.sql("resources", """
        INSERT INTO club.resources (club_id, id, name)
        SELECT c.club_id, %(base)s + c.club_ord * %(r)s + r.n, r.name
          FROM seed_club c, unnest(%(names)s::text[]) WITH ORDINALITY r(name, n) ORDER BY 1, 2""",
               {"base": base["resources"], "r": len(RESOURCES), "names": RESOURCES})
    # One session of every class a week, from the start of the history to 4 weeks ahead;
    # ids are arithmetic so an enrollment can name the class of its week without a join.
    week0 = anchor - timedelta(days=365 * HISTORY_YEARS + 14)
    week0 -= timedelta(days=week0.weekday())
    weeks = (anchor + timedelta(days=28) - week0).days // 7
    conn.execute("CREATE TEMP TABLE seed_const ON COMMIT DROP AS SELECT %s::int AS class_base, %s::int AS weeks, "
                 "%s::int AS templates, %s::timestamptz AS week0, %s::timestamptz AS anchor, %s::bigint AS staff_base, "
                 "%s::bigint AS resource_base, %s::bigint AS field_base",
                 (base["classes"], weeks, len(CLASS_TEMPLATES), _midnight(week0), _midnight(anchor), base["staff"],
                  base["resources"],
                  base["custom_fields"]))
    loader.sql("classes", """
        INSERT INTO club.classes (club_id, id, name, starts_at, instructor_id)
        SELECT c.club_id, k.class_base + (c.club_ord * k.weeks + w) * k.templates + t.n,
               t.name, k.week0 + make_interval(days => w * 7 + (t.n::int %% 6), hours => 7 + (t.n::int * 2) %% 13),
               k.staff_base + c.club_ord * %(staff_max)s + 1
                 + (pg_temp.seed_u(c.club_ord, t.n, 900) * c.staff_count)::int %% c.staff_count
          FROM seed_club c, seed_const k, generate_series(0, k.weeks - 1) w,
               unnest(%(names)s::text[]) WITH ORDINALITY t(name, n)
         ORDER BY 4, 1, 2""", {"names": CLASS_TEMPLATES, "staff_max": STAFF_MAX})


def _customer_rows(pools: Pools, rng: random.Random, base: dict, clubs: int, customers: int, seed: int,
                   anchor: date):
    """Yields (address, customer, plan) per customer, in member-since order."""
    start = anchor - timedelta(days=365 * HISTORY_YEARS)
    span_days = (anchor - timedelta(days=30) - start).days
    anchor_ts = _midnight(anchor)
    cprs: list[set[str]] = [set() for _ in range(clubs)]
    first_names, last_names, streets, towns, domains = (pools.first_names, pools.last_names, pools.streets,
                                                        pools.towns, pools.domains)
    for idx in range(customers):
        club_ord = idx % clubs
        club_id = base["clubs"] + 1 + club_ord
        number = idx // clubs + 1
        customer_id = base["customers"] + idx + 1
        address_id = base["addresses"] + idx + 1
        member_since = start + timedelta(days=span_days * idx // max(customers, 1))
        since_ts = _midnight(member_since) + timedelta(
            hours=6 + rng.randrange(15), minutes=rng.randrange(60))
        first, last = rng.choice(first_names), rng.choice(last_names)
        postcode, city = rng.choice(towns)
        address = (club_id, address_id, f"{rng.choice(streets)} {1 + rng.randrange(150)}", postcode, city)
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 68))
        cpr = None
        if rng.random() < 0.85:
            valid = rng.randrange(100) >= INVALID_MOD11_PERCENT
            cpr = make_cpr(rng, birth, valid)
            while cpr in cprs[club_ord]:
                cpr = make_cpr(rng, birth, valid)
            cprs[club_ord].add(cpr)
        local = f"{first}.{last}".lower().translate(TRANSLIT)
        email = f"{local}{rng.randrange(100)}@{rng.choice(domains)}" if rng.random() < 0.95 else None
        phone = _phone(idx, seed)
        bank_reg = bank_account = None
        if rng.random() < 0.6:
            bank_reg = f"{1000 + rng.randrange(9000)}"
            digits = rng.randrange(4, 11)
            bank_account = str(rng.randrange(10 ** (digits - 1), 10 ** digits))
        photo = (b"\xff\xd8\xff\xe0" + rng.randbytes(120 + rng.randrange(200)) + b"\xff\xd9"
                 if rng.random() < 0.2 else None)
        key_fob = f"{(idx * 2654435761 + seed) % 2 ** 32:08X}" if rng.random() < 0.6 else None
        customer = (club_id, customer_id, f"{number:06d}", first, last, address_id, email, phone, birth, cpr,
                    bank_reg, bank_account, photo, f"MC{club_id:03d}{number:07d}", key_fob, member_since)
        # The plan: recency, size and flags of the customer's linked rows.
        heavy = idx % HEAVY_EVERY == 7
        inactive = (not heavy and rng.randrange(100) < INACTIVE_PERCENT
                    and member_since <= anchor - timedelta(days=220))
        if inactive:
            latest = anchor_ts - timedelta(days=190)
            last_at = since_ts + (latest - since_ts) * rng.random()
        else:
            last_at = max(since_ts + timedelta(days=1),
                          anchor_ts - timedelta(days=150 * rng.random(), hours=rng.randrange(24)))
            last_at = min(last_at, anchor_ts - timedelta(hours=1))
        events = HEAVY_EVENTS if heavy else 12 + rng.randrange(66)
        debtor = rng.randrange(100) < DEBTOR_PERCENT
        future = not inactive and rng.randrange(100) < FUTURE_BOOKING_PERCENT
        fee = (199, 249, 299, 349, 399)[rng.randrange(5)]
        plan = (idx, club_ord, club_id, customer_id, since_ts, last_at, events, inactive, debtor, future, fee,
                first, last, phone, email or phone)
        yield address, customer, plan


CUSTOMER_COLUMNS = ["club_id", "id", "customer_no", "first_name", "last_name", "address_id", "email", "phone",
                    "birth_date", "cpr", "bank_reg", "bank_account", "photo", "member_card", "key_fob",
                    "member_since"]
PLAN_COLUMNS = ["idx", "club_ord", "club_id", "id", "member_since", "last_at", "events", "inactive", "debtor",
                "future_booking", "fee", "first_name", "last_name", "phone", "email"]


def _load_customers(loader: _Loader, pools: Pools, rng: random.Random, base: dict, clubs: int, customers: int,
                    seed: int, anchor: date) -> None:
    conn = loader.conn
    conn.execute("""CREATE TEMP TABLE seed_plan (idx bigint, club_ord int, club_id bigint, id bigint,
                        member_since timestamptz, last_at timestamptz, events int, inactive boolean,
                        debtor boolean, future_booking boolean, fee numeric, first_name text, last_name text,
                        phone text, email text) ON COMMIT DROP""")
    rows = _customer_rows(pools, rng, base, clubs, customers, seed, anchor)
    chunk = 50000
    while True:
        batch = [r for _, r in zip(range(chunk), rows)]
        if not batch:
            break
        loader.count("addresses", loader.copy("club.addresses", ["club_id", "id", "street", "postcode", "city"],
                                              (b[0] for b in batch)))
        loader.count("customers", loader.copy("club.customers", CUSTOMER_COLUMNS, (b[1] for b in batch)))
        loader.copy("seed_plan", PLAN_COLUMNS, (b[2] for b in batch))
        loader.say(f"customers: {loader.report.rows['customers']:,} of {customers:,}")
    conn.execute("ANALYZE seed_plan")


# Every linked table: SELECT list over `p` (seed_plan), `k` (seed_const), `c` (seed_club),
# `g` (row number of the customer in this table, 0..n-1), `n` (rows of the customer),
# `ts` (the row's time: spread from member_since to last_at, the last one at last_at).
def _events(share: float, salt: int) -> str:
    return f"""
      FROM seed_plan p JOIN seed_club c USING (club_ord) CROSS JOIN seed_const k
      CROSS JOIN LATERAL (SELECT greatest(1, round(p.events * {share}))::int AS n) cnt
      CROSS JOIN LATERAL generate_series(0, cnt.n - 1) g
      CROSS JOIN LATERAL (SELECT CASE WHEN g = cnt.n - 1
                 THEN greatest(p.member_since, p.last_at - interval '3 days' * pg_temp.seed_u(p.idx, g, {salt}))
                 ELSE p.member_since + (p.last_at - p.member_since)
                                       * ((g + pg_temp.seed_u(p.idx, g, {salt})) / cnt.n) END AS ts) t"""


def _fmt(kind: str, count: int, salt: int) -> str:
    return (f"(SELECT format(x.template, p.first_name, p.last_name, p.phone, p.email) FROM seed_text x "
            f"WHERE x.kind = '{kind}' AND x.n = (pg_temp.seed_u(p.idx, g, {salt}) * {count})::int % {count})")


def _staff(salt: int) -> str:
    return (f"k.staff_base + p.club_ord * {STAFF_MAX} + 1 "
            f"+ (pg_temp.seed_u(p.idx, g, {salt}) * c.staff_count)::int % c.staff_count")


def _load_linked(loader: _Loader, seed: int) -> None:
    s = TABLE_SHARES
    loader.sql("custom_field_values", f"""
        INSERT INTO club.custom_field_values (club_id, customer_id, field_id, is_sensitive, value)
        SELECT p.club_id, p.id, k.field_base + p.club_ord * 3 + f.n, f.n = 3,
               CASE f.n WHEN 1 THEN (36 + (pg_temp.seed_u(p.idx, 1, 31) * 11)::int)::text
                        WHEN 2 THEN (ARRAY['XS','S','M','L','XL','XXL'])[1 + (pg_temp.seed_u(p.idx, 2, 31) * 6)::int % 6]
                        ELSE (SELECT x.template FROM seed_text x WHERE x.kind = 'health'
                               AND x.n = (pg_temp.seed_u(p.idx, 3, 32) * {len(HEALTH_VALUES)})::int % {len(HEALTH_VALUES)})
               END
          FROM seed_plan p CROSS JOIN seed_const k, generate_series(1, 3) f(n)
         WHERE f.n < 3 OR pg_temp.seed_u(p.idx, 3, 33) < 0.3
         ORDER BY p.idx, f.n""")
    loader.sql("consents", f"""
        INSERT INTO club.consents (club_id, customer_id, consent_type, version, given_at, withdrawn_at, evidence)
        SELECT * FROM (
          SELECT p.club_id, p.id, 'terms', 'v' || (4 - least(3, floor(extract(epoch FROM k.anchor - p.member_since) / (86400 * 548))::int))::text,
                 p.member_since, NULL::timestamptz,
                 CASE WHEN pg_temp.seed_u(p.idx, 0, 41) < 0.7 THEN 'Accepteret online fra ' || p.email
                      ELSE 'Accepteret ved skranken' END
            FROM seed_plan p CROSS JOIN seed_const k
          UNION ALL
          SELECT p.club_id, p.id, 'photo_marketing', NULL, p.member_since + interval '2 days',
                 CASE WHEN pg_temp.seed_u(p.idx, 1, 42) < 0.1 THEN p.last_at END,
                 'Skriftligt samtykke underskrevet af ' || p.first_name || ' ' || p.last_name
            FROM seed_plan p WHERE pg_temp.seed_u(p.idx, 1, 43) < 0.35
          UNION ALL
          SELECT p.club_id, p.id, 'newsletter', NULL, p.member_since + interval '1 hour', NULL,
                 'Tilmeldt med ' || p.email
            FROM seed_plan p WHERE pg_temp.seed_u(p.idx, 2, 44) < 0.3) x
         ORDER BY 5, 2, 3""")
    loader.sql("account_movements", f"""
        INSERT INTO club.account_movements (club_id, customer_id, amount, text, payment_reference, booked_at)
        SELECT p.club_id, p.id,
               CASE WHEN g % 2 = 0 THEN -p.fee ELSE p.fee END,
               CASE WHEN g % 2 = 0 THEN 'Kontingent ' || to_char(t.ts, 'MM/YYYY')
                    WHEN pg_temp.seed_u(p.idx, g, 51) < 0.3 THEN 'Indbetaling fra ' || p.first_name || ' ' || p.last_name
                    ELSE 'Betaling via MobilePay' END,
               CASE WHEN g % 2 = 1 THEN 'MP' || lpad((abs(hashint8extended(p.idx * 8192 + g, {int(seed)})) % 10000000000)::text, 10, '0') END,
               t.ts
        {_events(s['account_movements'], 50)}
         -- fee (even g) and payment (odd g) pairs; a debtor's last fee stays unpaid
         WHERE g < cnt.n - (cnt.n + CASE WHEN p.debtor THEN 1 ELSE 0 END) % 2
         ORDER BY t.ts, p.id, g""")
    loader.sql("activities", f"""
        INSERT INTO club.activities (club_id, customer_id, kind, occurred_at)
        SELECT p.club_id, p.id,
               CASE WHEN pg_temp.seed_u(p.idx, g, 61) < 0.7 THEN 'check_in'
                    WHEN pg_temp.seed_u(p.idx, g, 61) < 0.9 THEN 'door' ELSE 'gym_floor' END, t.ts
        {_events(s['activities'], 60)}
         ORDER BY t.ts, p.id, g""")
    loader.sql("reservations", f"""
        INSERT INTO club.reservations (club_id, customer_id, resource_id, starts_at, ends_at)
        SELECT p.club_id, p.id,
               k.resource_base + p.club_ord * {len(RESOURCES)} + 1 + (pg_temp.seed_u(p.idx, g, 71) * {len(RESOURCES)})::int % {len(RESOURCES)},
               date_trunc('hour', t.ts), date_trunc('hour', t.ts) + interval '1 hour'
        {_events(s['reservations'], 70)}
         ORDER BY 4, p.id, g""")
    loader.sql("class_enrollments", f"""
        INSERT INTO club.class_enrollments (club_id, class_id, customer_id, enrolled_at, attended)
        SELECT p.club_id, x.class_id, p.id, t.ts,
               CASE WHEN x.week < k.weeks - 5 THEN pg_temp.seed_u(p.idx, g, 82) < 0.85 END
        {_events(s['class_enrollments'], 80)}
         CROSS JOIN LATERAL (SELECT w AS week, k.class_base + (p.club_ord * k.weeks + w) * k.templates + 1
                                    + (pg_temp.seed_u(p.idx, g, 81) * k.templates)::int % k.templates AS class_id
                               FROM (SELECT least(k.weeks - 1, floor(extract(epoch FROM t.ts - k.week0) / 604800)::int + 1) AS w) ww) x
         ORDER BY t.ts, p.id, g""")
    loader.sql("table_bookings", f"""
        INSERT INTO club.table_bookings (club_id, customer_id, booked_for, party_size, note, created_at)
        SELECT * FROM (
          SELECT p.club_id, p.id,
                 date_trunc('hour', t.ts) + make_interval(days => 1 + (pg_temp.seed_u(p.idx, g, 91) * 14)::int),
                 1 + (pg_temp.seed_u(p.idx, g, 92) * 8)::int,
                 CASE WHEN pg_temp.seed_u(p.idx, g, 93) < 0.6 THEN {_fmt('booking', len(BOOKING_NOTES), 94)} END,
                 t.ts
          {_events(s['table_bookings'], 90)}
          UNION ALL
          SELECT p.club_id, p.id, date_trunc('day', k.anchor) + make_interval(days => 1 + (pg_temp.seed_u(p.idx, 0, 95) * 30)::int, hours => 18),
                 2 + (pg_temp.seed_u(p.idx, 0, 96) * 6)::int, 'Bord til ' || p.first_name || ', ring på ' || p.phone,
                 greatest(p.last_at, k.anchor - interval '2 days')
            FROM seed_plan p CROSS JOIN seed_const k WHERE p.future_booking) x
         ORDER BY 6, 2, 3""")
    loader.sql("log_lines", f"""
        INSERT INTO club.log_lines (club_id, customer_id, staff_id, written_at, text)
        SELECT p.club_id, p.id, {_staff(101)}, t.ts, {_fmt('log', len(LOG_TEXTS), 102)}
        {_events(s['log_lines'], 100)}
         ORDER BY t.ts, p.id, g""")
    loader.sql("notes", f"""
        INSERT INTO club.notes (club_id, customer_id, staff_id, written_at, text)
        SELECT p.club_id, p.id, {_staff(111)}, t.ts, {_fmt('note', len(NOTE_TEXTS), 112)}
        {_events(s['notes'], 110)}
         ORDER BY t.ts, p.id, g""")
