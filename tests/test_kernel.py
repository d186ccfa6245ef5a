"""The subject kernel: a key that exists in two clubs, asked for by an admin without
naming the club, gives one error (SQLSTATE 42P08, the same message) from every entry
point; an unknown key gives one "not found" (02000) everywhere."""

from __future__ import annotations

import pytest
from psycopg import errors


ENTRY_POINTS = [
    "SELECT gdpr.insight_report('member', %s)",
    "SELECT count(*) FROM gdpr.insight_rows('member', %s)",
    "SELECT gdpr.anonymize('member', %s, 'anmodning')",
    "SELECT gdpr.erasure_preview('member', %s)",
    "SELECT gdpr.set_legal_hold('member', %s, 'debt', 'faktura')",
    "SELECT gdpr.verify_erased('member', %s)",
    "SELECT gdpr.open_request('member', %s, 'access', 'mitid')",
]

GYM = """
CREATE SCHEMA gym;
CREATE TABLE gym.clubs (code text PRIMARY KEY);
INSERT INTO gym.clubs VALUES ('a'), ('b');
CREATE TABLE gym.members (club text NOT NULL REFERENCES gym.clubs, no integer NOT NULL, name text,
                          PRIMARY KEY (club, no));
SELECT gdpr.declare_tenant('gym', 'clubs', 'code');
INSERT INTO gym.members VALUES ('a', 7, 'Ane Ærø'), ('b', 7, 'Bo Bæk'), ('a', 8, 'Carl Ceder');
SELECT gdpr.declare_subject('member', 'gym', 'members', 'no', 'club', '{name}', NULL, 'members');
SELECT gdpr.declare_table('gym', 'members', 'member', 'root', 'anonymize', 'Medlem', 'Member',
                          'membership', 'contract', '1 year');
SELECT gdpr.declare_column('gym', 'members', 'name', 'name', 'null');
"""


@pytest.fixture
def shared_key(conn) -> str:
    """Member number 7 exists in club a and in club b (the key is (club, no))."""
    conn.execute(GYM)
    return "7"


@pytest.mark.parametrize("statement", ENTRY_POINTS)
def test_an_ambiguous_key_gives_one_error_everywhere(conn, shared_key, statement):
    with pytest.raises(errors.AmbiguousParameter, match="member 7 exists in more than one club: name the club"):
        with conn.transaction():
            conn.execute(statement, (shared_key,))


@pytest.mark.parametrize("statement", ENTRY_POINTS)
def test_an_unknown_key_gives_one_error_everywhere(conn, shared_key, statement):
    with pytest.raises(errors.NoDataFound, match="member 424242 not found"):
        with conn.transaction():
            conn.execute(statement, ("424242",))


def test_naming_the_club_resolves_the_key(conn, shared_key):
    report = conn.execute("SELECT gdpr.insight_report('member', '7', 'b')").fetchone()[0]
    assert report["subject"]["tenant"] == "b"
