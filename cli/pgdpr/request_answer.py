"""A report or export that answers a data-subject request (`--request N`): the
engine's action and the request's closing in one transaction (see begin_answer)."""

from __future__ import annotations

import click
import psycopg


def begin_answer(conn: psycopg.Connection, request_id: int | None) -> None:
    """A report or export that answers request N runs in one transaction with the
    request's closing: begin it here, close it right after the engine's action (so a
    wrong subject or a closed request stops everything before a file is written),
    commit after the output is written. Any error in between rolls all of it back
    (the connection closes without COMMIT): no audit event, no closed request."""
    if request_id is not None:
        conn.execute("BEGIN")


def close_answer(conn: psycopg.Connection, request_id: int | None) -> dict | None:
    if request_id is None:
        return None
    return conn.execute("SELECT gdpr.close_request(%s, 'answered')", (request_id,)).fetchone()[0]


def commit_answer(conn: psycopg.Connection, result: dict | None) -> None:
    if result is None:
        return
    conn.execute("COMMIT")
    late = " (after the deadline)" if result.get("late") else ""
    click.echo(f"request {result['request_id']} answered and closed{late}", err=True)
