from factory import make_club, make_customer


def test_factory_fills_every_customer_table(conn):
    """The catalog's subject filter reaches the factory's rows in every customer table."""
    make_club(conn, 1)
    make_club(conn, 2)
    make_customer(conn, 2)  # another club's customer must not be counted
    customer = make_customer(conn, 1, rows_per_table=3)
    tables = conn.execute("SELECT table_schema, table_name FROM gdpr.catalog_table WHERE kind = 'customer'").fetchall()
    assert len(tables) == 11
    for i, (schema, table) in enumerate(tables):
        where = conn.execute("SELECT gdpr.subject_filter(%s, %s, 't', '= $1', '= $2')", (schema, table)).fetchone()[0]
        conn.execute(f'PREPARE count_{i} (bigint, bigint) AS SELECT count(*) FROM "{schema}"."{table}" t WHERE {where}')
        count = conn.execute(f"EXECUTE count_{i} ({int(customer.id)}, {int(customer.club_id)})").fetchone()[0]
        expected = {"customers": 1, "addresses": 1, "custom_field_values": 2, "consents": 2}.get(table, 3)
        assert count == expected, f"{schema}.{table}"
