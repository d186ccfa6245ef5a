"""Outputs are what they say: export JSON, report PDF (or a refusal), no zip named .csv,
pictures as image files, and `--format json` on every command that documents it."""

from __future__ import annotations

import json
import shutil
import sys
import subprocess
import zipfile

import click
import pytest

from factory import make_club, make_customer
from pgdpr.main import cli


@pytest.fixture
def customer(conn):
    make_club(conn, 1)
    return make_customer(conn, 1, first_name="Karoline")


def test_export_json(run_cli, customer, tmp_path):
    for args, name in ((["--format", "json"], "a.out"), ([], "b.json")):
        path = tmp_path / name
        if name == "a.out":
            result = run_cli("export", str(customer.id), "-o", str(path), *args)
            assert result.exit_code == 1 and ".out" in result.output  # a suffix export does not write
            path = tmp_path / "a.json"
            result = run_cli("export", str(customer.id), "-o", str(path), *args)
        else:
            result = run_cli("export", str(customer.id), "-o", str(path))
        assert result.exit_code == 0, result.output
        document = json.loads(path.read_text())
        customers = next(s for s in document["sections"] if s["section"] == "club.customers")
        assert customers["records"][0]["first_name"] == "Karoline" and customers["legal_basis"]
        notes = next(s for s in document["sections"] if s["section"] == "club.notes")
        assert len(notes["records"]) == 2


def test_contradictions_are_refused_before_anything_is_made(run_cli, conn, customer, tmp_path):
    events = conn.execute("SELECT count(*) FROM gdpr.audit_event").fetchone()[0]
    for args in (["export", str(customer.id), "--zip", "-o", str(tmp_path / "x.csv")],
                 ["export", str(customer.id), "-o", str(tmp_path / "k.pdf")],
                 ["export", str(customer.id), "--format", "csv", "-o", str(tmp_path / "k.json")],
                 ["export", str(customer.id), "--excel", "-o", str(tmp_path / "k.json")],
                 ["report", str(customer.id), "-o", str(tmp_path / "k.docx")],
                 ["report", str(customer.id), "--format", "json", "-o", str(tmp_path / "k.html")]):
        result = run_cli(*args)
        assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, (args, result.output)
    assert not list(tmp_path.iterdir())
    assert conn.execute("SELECT count(*) FROM gdpr.audit_event").fetchone()[0] == events


def test_report_pdf(run_cli, customer, tmp_path):
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("chromium is not installed (Debian package `chromium`): PDF output needs it")
    path = tmp_path / "kunde.pdf"
    result = run_cli("report", str(customer.id), "-o", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_bytes().startswith(b"%PDF") and path.stat().st_size > 1000


def test_report_pdf_without_chromium_is_refused(db_dsn, customer, tmp_path):
    env = {"PATH": "/nonexistent", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "pgdpr", "--dsn", db_dsn, "report", str(customer.id),
                             "-o", str(tmp_path / "k.pdf")], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1 and "Chromium" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "k.pdf").exists()


def test_pictures_are_image_files_in_the_zip(run_cli, conn, customer, tmp_path):
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
    conn.execute("UPDATE club.customers SET photo = %s WHERE id = %s", (jpeg, customer.id))
    path = tmp_path / "kunde.zip"
    assert run_cli("export", str(customer.id), "-o", str(path)).exit_code == 0  # .zip implies --zip
    with zipfile.ZipFile(path) as archive:
        pictures = [n for n in archive.namelist() if n.startswith("files/")]
        assert len(pictures) == 1 and pictures[0].endswith(".jpg")
        assert archive.read(pictures[0]) == jpeg
        customers = next(n for n in archive.namelist() if n.endswith("_customers.csv"))
        text = archive.read(customers).decode()
        assert pictures[0] in text and "\\xffd8" not in text
        assert "files/" in archive.read("README.txt").decode()


def commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, prefix + (name,))
            if command.invoke_without_command:
                yield prefix + (name,), command
        else:
            yield prefix + (name,), command


def test_every_format_option_offers_json_and_every_reading_command_has_one():
    formats = {}
    for path, command in commands(cli):
        option = next((p for p in command.params if "--format" in getattr(p, "opts", [])), None)
        if option is not None:
            formats[" ".join(path)] = list(option.type.choices)
    for path, choices in formats.items():
        assert "json" in choices, path
    # what a script reads: every command that prints a result (not a file of its own kind)
    must = ["demo", "demo seed", "migrate", "status", "catalog show", "catalog apply", "catalog check",
            "catalog discover", "report", "export", "anonymize", "hold set", "hold clear", "hold list",
            "ledger replay", "ledger check", "rights show", "rights set", "rights group", "rights staff",
            "rights support-grant", "rights support-revoke", "rights refresh", "compliance-report",
            "server status"]
    assert [m for m in must if m not in formats] == []


def test_command_modules_import_no_other_command_module():
    """Context, pass_context and emit_json live in pgdpr.context: a command module
    imports neither pgdpr.main nor another command module (commands_catalog_coverage
    extends the catalog group by design)."""
    code = ("import sys, importlib\n"
            "for name in ['commands_catalog', 'commands_compliance', 'commands_demo', 'commands_erasure',"
            " 'commands_migrate', 'commands_report', 'commands_rights', 'commands_server']:\n"
            "    before = set(sys.modules)\n"
            "    importlib.import_module('pgdpr.' + name)\n"
            "    bad = [m for m in sys.modules if m == 'pgdpr.main' or (m.startswith('pgdpr.commands_')"
            " and m != 'pgdpr.' + name)]\n"
            "    assert not bad, (name, bad)\n"
            "    for m in list(sys.modules):\n"
            "        if m.startswith('pgdpr.commands_') or m == 'pgdpr.main': del sys.modules[m]\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
