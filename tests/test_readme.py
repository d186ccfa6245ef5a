"""The README is a tested artifact: its tour runs, in order, against the demo data;
every other `pgdpr ...` it names is a command with options that exist; no internal
labels reach what users read (the README, help texts, the demo's output)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
from click.testing import CliRunner

from pgdpr.main import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
INTERNAL = re.compile(r"\bseed S\d+|\bF\d+[a-z]?\b|\bissue \d+|\bS\d{1,2}\b")


def tour() -> list[str]:
    section = README[README.index("## A short tour"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_the_tour_runs_in_order_on_the_demo_data(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    steps = tour()
    assert steps[0] == "pgdpr demo" and len(steps) >= 15
    for step in steps:
        args = shlex.split(step)
        assert args[0] == "pgdpr"
        result = run_cli(*args[1:])
        assert result.exit_code == 0, (step, result.output)
        assert "Traceback" not in result.output, step
    assert (tmp_path / "kunde.html").exists() and (tmp_path / "before.html").exists()


def inline_commands(text: str) -> list[str]:
    return [m for m in re.findall(r"`(pgdpr [^`]+)`", text.replace("\n", " "))
            if "|" not in m and not m.startswith("pgdpr.")]


def test_every_command_named_in_the_readmes_exists_with_its_options():
    """Commands named in prose (not run: they need a server of their own, or take
    long) parse: the command exists and each option it names does."""
    runner = CliRunner()
    texts = {"README.md": README, "examples/webshop/README.md": (ROOT / "examples/webshop/README.md").read_text()}
    for name, text in texts.items():
        blocks = "\n".join(re.findall(r"```sh\n(.*?)```", text, re.S))
        named = inline_commands(text) + [line.split("#")[0].strip() for line in re.findall(
            r"^(pgdpr .*)$", blocks, re.M)]
        assert named, name
        for command in named:
            args = [a for a in shlex.split(command)[1:]]
            result = runner.invoke(cli, [*args, "--help"])
            assert result.exit_code == 0, (name, command, result.output)


def walk(group: click.Group, prefix=()):
    for command_name, command in group.commands.items():
        yield prefix + (command_name,), command
        if isinstance(command, click.Group):
            yield from walk(command, prefix + (command_name,))


def test_no_internal_labels_in_the_readme_or_help_texts():
    assert not INTERNAL.findall(README)
    runner = CliRunner()
    for path, _ in walk(cli):
        text = runner.invoke(cli, [*path, "--help"]).output
        assert not INTERNAL.findall(text), (path, INTERNAL.findall(text))


def test_the_demo_output_has_no_internal_labels(run_cli):
    output = run_cli("demo").output
    assert not INTERNAL.findall(output), INTERNAL.findall(output)
