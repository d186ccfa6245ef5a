"""The installed schema, dumped and committed (tests/expected/schema.sql), so every
change to the database surface shows in review. Regenerate after an intended change:

    PGDPR_UPDATE_SCHEMA=1 PGDPR_TEST_PG=15 pytest tests/test_schema_dump.py

The dump is taken with the server's own pg_dump and compared on PostgreSQL 15 (the
committed file's version); pg_dump 18 words the same schema differently.
"""

import difflib
import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from conftest import dsn_for

EXPECTED = Path(__file__).parent / "expected" / "schema.sql"


def normalised_dump(dsn: str, bin_dir: str) -> str:
    dump = subprocess.run([f"{bin_dir}/pg_dump", "--schema-only",
                           "--exclude-schema=public", "-d", dsn], capture_output=True, text=True, check=True).stdout
    lines = []
    for line in dump.splitlines():
        if line.startswith(("--", "SET ", "SELECT pg_catalog.set_config", "\\restrict", "\\unrestrict")) or not line:
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_installed_schema_matches_the_committed_dump(server_dsn, template_db):
    with psycopg.connect(server_dsn) as conn:
        major = conn.execute("SELECT current_setting('server_version_num')::int / 10000").fetchone()[0]
        bin_dir = conn.execute("SELECT setting FROM pg_config WHERE name = 'BINDIR'").fetchone()[0]
    if major != 15:
        pytest.skip("the committed dump is pg_dump 15's wording; PostgreSQL 15 runs this comparison")
    actual = normalised_dump(dsn_for(server_dsn, template_db), bin_dir)
    if os.environ.get("PGDPR_UPDATE_SCHEMA"):
        EXPECTED.parent.mkdir(exist_ok=True)
        EXPECTED.write_text(actual, encoding="utf-8")
    expected = EXPECTED.read_text(encoding="utf-8")
    if actual != expected:
        diff = list(difflib.unified_diff(expected.splitlines(), actual.splitlines(), "committed", "installed",
                                         lineterm="", n=1))
        pytest.fail("installed schema differs from tests/expected/schema.sql (regenerate it if the change is "
                    "intended); first lines of the difference:\n" + "\n".join(diff[:60]), pytrace=False)
