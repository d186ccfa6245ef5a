"""Where the SQL, migrations and catalogs are: inside the installed package, or the
repository's top-level folders when running from a source checkout."""

from importlib.resources import files
from pathlib import Path

_PACKAGE = Path(str(files("pgdpr")))
_CHECKOUT = _PACKAGE.parent.parent  # cli/pgdpr -> repository root


def resource_dir(name: str) -> Path:
    """The folder `name` (sql, migrations, catalogs), installed copy first."""
    installed = _PACKAGE / name
    if installed.is_dir():
        return installed
    return _CHECKOUT / name


def repeatable_sql_files() -> list[Path]:
    """Files re-applied on every migrate, in their fixed order: roles and grants
    first (sql/*.sql), then functions, then policies, each folder by file name."""
    sql = resource_dir("sql")
    ordered: list[Path] = []
    for folder in (sql, sql / "functions", sql / "policies"):
        ordered.extend(sorted(folder.glob("*.sql")))
    return ordered
