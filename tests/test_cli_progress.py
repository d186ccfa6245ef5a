"""Long work shows progress on a terminal and stays quiet in pipes and with --format json."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

from factory import make_club, make_customer


def run(db_dsn, *args, tty: bool) -> tuple[int, str, str]:
    """Run the real CLI; its stderr is a terminal (a pty) when `tty`, else a pipe."""
    if not tty:
        result = subprocess.run([sys.executable, "-m", "pgdpr", "--dsn", db_dsn, *args], capture_output=True,
                                text=True, timeout=120)
        return result.returncode, result.stdout, result.stderr
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "pgdpr", "--dsn", db_dsn, *args], stdout=subprocess.PIPE,
                               stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    stdout = process.stdout.read().decode()
    process.wait(timeout=120)
    os.close(leader)
    return process.returncode, stdout, b"".join(chunks).decode(errors="replace")


def test_demo_seed_progress(db_dsn):
    code, _, err = run(db_dsn, "demo", "seed", "--clubs", "1", "--customers", "30", tty=True)
    assert code == 0 and "demo seed:" in err and "rows/s" in err
    code, _, err = run(db_dsn, "demo", "seed", "--clubs", "1", "--customers", "30", tty=False)
    assert code == 0 and "demo seed:" not in err
    code, out, err = run(db_dsn, "demo", "seed", "--clubs", "1", "--customers", "30", "--format", "json", tty=True)
    assert code == 0 and "demo seed:" not in err and json.loads(out)["customers"] == 30


def test_ledger_replay_and_catalog_check_progress(conn, db_dsn, tmp_path):
    make_club(conn, 1)
    for _ in range(3):
        subject = make_customer(conn, 1)
        conn.execute("SELECT gdpr.anonymize('customer', %s, 'request', '1')", (str(subject.id),))
    ledger = tmp_path / "ledger.jsonl"
    assert run(db_dsn, "ledger", "export", "-o", str(ledger), tty=False)[0] == 0
    code, out, err = run(db_dsn, "ledger", "check", str(ledger), tty=True)
    assert code == 0 and "ledger check: 3 of 3 entries" in err, err
    code, out, err = run(db_dsn, "ledger", "check", str(ledger), tty=False)
    assert code == 0 and "ledger check:" not in err and "3 ledger entries" in out
    code, out, err = run(db_dsn, "ledger", "check", str(ledger), "--format", "json", tty=True)
    assert code == 0 and "ledger check:" not in err and json.loads(out)["counts"]
    code, out, err = run(db_dsn, "catalog", "check", tty=True)
    assert "catalog check: " in err and " s" in err
    code, out, err = run(db_dsn, "catalog", "check", tty=False)
    assert "catalog check: running" not in err and "catalog check:" not in err
