"""Every file the CLI writes that may hold personal data is readable by its owner only
(mode 0600, GDPR Art. 32), whichever command writes it, and an existing file that is
overwritten loses its wider mode too."""

from __future__ import annotations

import os
import stat

import pytest

from factory import make_club, make_customer


def mode(path) -> str:
    return oct(stat.S_IMODE(os.stat(path).st_mode))


@pytest.fixture
def customer(conn):
    make_club(conn, 1)
    return make_customer(conn, 1, first_name="Karoline")


@pytest.fixture(autouse=True)
def open_umask():
    """A permissive umask, as on many desktops: the files must still be 0600."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_report_and_export_files_are_private(run_cli, customer, tmp_path):
    key = str(customer.id)
    commands = {
        "report.html": ["report", key], "report.txt": ["report", key], "report.json": ["report", key],
        "export.csv": ["export", key], "export-excel.csv": ["export", key, "--excel"],
        "export.json": ["export", key], "export.zip": ["export", key, "--zip"],
    }
    for name, args in commands.items():
        path = tmp_path / name
        result = run_cli(*args, "-o", str(path))
        assert result.exit_code == 0, (name, result.output)
        assert mode(path) == "0o600", name
    assert "Karoline" in (tmp_path / "export.csv").read_text()


def test_an_existing_world_readable_file_becomes_private(run_cli, customer, tmp_path):
    path = tmp_path / "kunde.html"
    path.write_text("old")
    path.chmod(0o644)
    assert run_cli("report", str(customer.id), "-o", str(path)).exit_code == 0
    assert mode(path) == "0o600" and "Karoline" in path.read_text()


def test_record_ledger_draft_and_saved_report_are_private(run_cli, customer, tmp_path):
    files = {
        "fortegnelse.html": ["compliance-report", "--club", "1"],
        "ledger.jsonl": ["ledger", "export"],
        "draft.toml": ["catalog", "discover", "--schema", "club"],
    }
    for name, args in files.items():
        path = tmp_path / name
        result = run_cli(*args, "-o", str(path))
        assert result.exit_code == 0, (name, result.output)
        assert mode(path) == "0o600", name
    saved = tmp_path / "before.html"
    assert run_cli("anonymize", str(customer.id), "--yes", "--save-report", str(saved)).exit_code == 0
    assert mode(saved) == "0o600"
    assert mode(tmp_path / "ledger.jsonl") == "0o600"


def test_one_writer():
    """The commands share pgdpr.files; none writes a file on its own."""
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "cli" / "pgdpr"
    for source in package.glob("*.py"):
        if source.name == "files.py":
            continue
        text = source.read_text()
        for pattern in ("write_bytes(", "write_text(", "os.open(", "open(path, \"w", "ZipFile(path"):
            assert pattern not in text, f"{source.name} writes a file itself ({pattern})"
