"""The second schema (examples/webshop): a web shop the engine has never seen, single
tenant, with an owned address, order lines reached only through orders, a partitioned
payments table and a jsonb column of personal data. Discover, check, the insight
report, anonymise and verify_erased all work on it from its reviewed catalog, with
no engine change."""

import itertools
import json
import os
import tomllib
import uuid

import psycopg
import pytest

from conftest import dsn_for
from pgdpr.catalog import apply as apply_catalog
from pgdpr.migrate import migrate

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "webshop")
CATALOG = os.path.join(EXAMPLE, "catalog.toml")
LINKED = {"webshop.customers": "root", "webshop.addresses": "owned", "webshop.orders": "direct",
          "webshop.order_lines": "via", "webshop.payments": "direct", "webshop.reviews": "direct",
          "webshop.support_tickets": "direct"}
_clone = itertools.count()


@pytest.fixture(scope="module")
def webshop_template(server_dsn, admin_conn):
    name = f"webshop_tpl_{os.getpid()}"
    admin_conn.execute(f"DROP DATABASE IF EXISTS {name}")
    admin_conn.execute(f"CREATE DATABASE {name}")
    dsn = dsn_for(server_dsn, name)
    migrate(dsn)  # the engine only: no club schema, no club catalog
    with psycopg.connect(dsn, autocommit=True) as conn:
        with open(os.path.join(EXAMPLE, "schema.sql"), encoding="utf-8") as fh:
            conn.execute(fh.read())
        conn.execute("INSERT INTO webshop.products (sku, title, description, price) VALUES "
                     "('MUG-1', 'Krus', 'Et stort krus i stentøj, tåler opvaskemaskine', 89), "
                     "('TEE-2', 'T-shirt', 'Økologisk bomuld, unisex pasform', 199)")
    yield name
    admin_conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def shop_dsn(server_dsn, admin_conn, webshop_template):
    name = f"webshop_{os.getpid()}_{next(_clone)}"
    admin_conn.execute(f"CREATE DATABASE {name} TEMPLATE {webshop_template} STRATEGY FILE_COPY")
    yield dsn_for(server_dsn, name)
    admin_conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def shop(shop_dsn):
    with psycopg.connect(shop_dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture
def reviewed(shop):
    apply_catalog(shop, CATALOG)
    return shop


def make_shopper(conn, first, last, paid_at="2026-03-02 10:01+01"):
    """A customer with a row in every linked table; returns the key and identifying values."""
    n = uuid.uuid4().hex[:6]
    email, phone = f"{first.lower()}.{last.lower()}.{n}@example.dk", f"+45 {20000000 + int(n, 16) % 9999999}"
    address = conn.execute("INSERT INTO webshop.addresses (street, postal_code, city) "
                           "VALUES (%s, '8000', 'Aarhus C') RETURNING id", (f"{last}vej {n}",)).fetchone()[0]
    key = conn.execute("INSERT INTO webshop.customers (first_name, last_name, email, phone, birth_date, address_id) "
                       "VALUES (%s, %s, %s, %s, '1985-04-17', %s) RETURNING id",
                       (first, last, email, phone, address)).fetchone()[0]
    order = conn.execute("INSERT INTO webshop.orders (customer_id, placed_at, total, shipping_note) "
                         "VALUES (%s, %s, 288, %s) RETURNING id",
                         (key, paid_at, f"Stil pakken ved døren, ring til {first} på {phone}")).fetchone()[0]
    conn.execute("INSERT INTO webshop.order_lines (order_id, line_no, product_id, quantity, unit_price, gift_message) "
                 "VALUES (%s, 1, 1, 1, 89, %s), (%s, 2, 2, 1, 199, NULL)", (order, f"Tillykke {first}!", order))
    for when in (paid_at, "2025-11-02 10:01+01"):  # two partitions
        conn.execute("INSERT INTO webshop.payments (customer_id, paid_at, amount, method, iban, card_last4) "
                     "VALUES (%s, %s, 288, 'transfer', 'DK5000400440116243', '4242')", (key, when))
    conn.execute("INSERT INTO webshop.reviews (customer_id, product_id, rating, body) VALUES (%s, 1, 5, %s)",
                 (key, f"Fantastisk krus, købt af {first} {last} til hele familien"))
    conn.execute("INSERT INTO webshop.support_tickets (customer_id, topic, details) VALUES (%s, 'delivery', %s)",
                 (key, json.dumps({"name": f"{first} {last}", "email": email, "phone": phone,
                                   "message": "Hvor er min pakke?"})))
    return {"key": str(key), "first": first, "last": last, "email": email, "phone": phone, "order": order}


def test_discover_finds_every_table_linked_to_the_customer(shop, shop_dsn, tmp_path):
    make_shopper(shop, "Karen", "Blixensen")
    rows = shop.execute("SELECT table_name, role, link_column, parent, on_erase, retain_column "
                        "FROM gdpr.catalog_discover('webshop')").fetchall()  # subject guessed
    assert {t: role for t, role, *_ in rows} == LINKED  # products holds nothing personal
    by = {t: rest for t, *rest in rows}
    assert by["webshop.order_lines"][:3] == ["via", "order_id", "webshop.orders"]
    assert by["webshop.addresses"][:2] == ["owned", "address_id"]
    assert by["webshop.payments"][3:] == ["retain", "paid_at"]
    columns = {r[0]: {c["column"]: c["category"] for c in r[1]} for r in shop.execute(
        "SELECT table_name, columns FROM gdpr.catalog_discover('webshop', 'webshop.customers')")}
    assert columns["webshop.customers"] == {"first_name": "name", "last_name": "name", "email": "contact",
                                            "phone": "contact", "birth_date": "birthdate"}
    assert columns["webshop.payments"] == {"iban": "bank"}
    assert columns["webshop.support_tickets"] == {"details": "contact"}  # found in the sampled json

    # the draft is a valid catalog: it applies as it is (the DBA then reviews it)
    from click.testing import CliRunner
    from pgdpr.main import cli
    out = tmp_path / "draft.toml"
    result = CliRunner().invoke(cli, ["--dsn", shop_dsn, "catalog", "discover", "--schema", "webshop", "-o", str(out)])
    assert result.exit_code == 0, result.output
    draft = tomllib.loads(out.read_text(encoding="utf-8"))
    assert {t["name"] for t in draft["table"]} == set(LINKED)
    apply_catalog(shop, out)
    assert shop.execute("SELECT count(*) FROM gdpr.catalog_table").fetchone()[0] == len(LINKED)


def test_check_passes_with_the_reviewed_catalog(reviewed):
    make_shopper(reviewed, "Karen", "Blixensen")
    assert reviewed.execute("SELECT * FROM gdpr.catalog_check()").fetchall() == []
    # and names the json column once it is left out
    reviewed.execute("DELETE FROM gdpr.catalog_column WHERE table_name = 'support_tickets'")
    assert [r[:4] for r in reviewed.execute("SELECT * FROM gdpr.catalog_check()")] == \
        [("error", "undeclared_column", "webshop.support_tickets", "details")]


def test_insight_report_covers_every_table(reviewed):
    karen = make_shopper(reviewed, "Karen", "Blixensen")
    make_shopper(reviewed, "Otto", "Andersen")
    report = reviewed.execute("SELECT gdpr.insight_report('customer', %s)", (karen["key"],)).fetchone()[0]
    text = json.dumps(report, ensure_ascii=False)
    for table in LINKED:
        assert table.split(".")[1] in text or table in text, table
    for value in (karen["email"], karen["phone"], f"Tillykke {karen['first']}!", "DK5000400440116243"):
        assert value in text, value
    assert "Otto" not in text


def test_anonymise_and_verify_erased(reviewed):
    conn = reviewed
    karen = make_shopper(conn, "Karen", "Blixensen")
    otto = make_shopper(conn, "Otto", "Andersen")
    before_otto = conn.execute("SELECT to_jsonb(c) FROM webshop.customers c WHERE id = %s", (otto["key"],)).fetchone()
    summary = conn.execute("SELECT gdpr.anonymize('customer', %s, 'request')", (karen["key"],)).fetchone()[0]
    assert summary
    k = int(karen["key"])
    row = conn.execute("SELECT first_name, email, phone, birth_date, address_id, anonymized_at "
                       "FROM webshop.customers WHERE id = %s", (k,)).fetchone()
    assert row[0] == "Anonymiseret" and row[1] != karen["email"] and row[2] is None
    assert row[3].month == 1 and row[3].day == 1 and row[5] is not None
    assert conn.execute("SELECT count(*) FROM webshop.reviews WHERE customer_id = %s", (k,)).fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM webshop.support_tickets WHERE customer_id = %s", (k,)).fetchone()[0] == 0
    # kept by law, scrubbed where not part of the record
    orders = conn.execute("SELECT shipping_note FROM webshop.orders WHERE customer_id = %s", (k,)).fetchall()
    assert len(orders) == 1 and karen["phone"] not in (orders[0][0] or "")
    lines = conn.execute("SELECT gift_message FROM webshop.order_lines WHERE order_id = %s ORDER BY line_no",
                         (karen["order"],)).fetchall()
    assert len(lines) == 2 and "Karen" not in (lines[0][0] or "")
    payments = conn.execute("SELECT iban, card_last4 FROM webshop.payments WHERE customer_id = %s", (k,)).fetchall()
    assert len(payments) == 2 and all(p == (None, None) for p in payments)
    assert conn.execute("SELECT count(*) FROM webshop.addresses WHERE street LIKE 'Blixensenvej%'").fetchone()[0] == 0
    verdict = conn.execute("SELECT gdpr.verify_erased('customer', %s, NULL)", (karen["key"],)).fetchone()[0]
    assert verdict["verdict"] == "erased", verdict
    # the other customer is untouched
    assert conn.execute("SELECT to_jsonb(c) FROM webshop.customers c WHERE id = %s", (otto["key"],)).fetchone() \
        == before_otto
    assert conn.execute("SELECT count(*) FROM webshop.support_tickets WHERE customer_id = %s",
                        (int(otto["key"]),)).fetchone()[0] == 1


def test_compliance_report_of_a_single_tenant_schema(reviewed):
    make_shopper(reviewed, "Karen", "Blixensen")
    r = reviewed.execute("SELECT gdpr.compliance_record()").fetchone()[0]
    assert {t["table"] for t in r["tables"]} == set(LINKED)
    assert r["tenant"] is None and r["figures"]["subjects"] == {"customer": 1}
    payments = next(t for t in r["tables"] if t["table"] == "webshop.payments")
    assert payments["on_erase"] == "retain" and "paid_at" in payments["erasure"]
    assert {(c["table"], c["column"]) for c in r["security"]["sensitive_columns"]} == \
        {("webshop.payments", "iban"), ("webshop.payments", "card_last4")}
