def test_catalog_installed(conn):
    rows = conn.execute("SELECT count(*) FROM gdpr.catalog_table").fetchone()[0]
    assert rows == 12
