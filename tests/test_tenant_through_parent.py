"""A table without the club column, linked to a subject whose table has it (the club
only on the root: visits under a member, lines under an order): one club's staff read
and write its rows only through their own members; another club's rows stay invisible
and cannot be planted."""

from __future__ import annotations

import uuid

import pytest
from psycopg import errors, sql

GYM = """
CREATE SCHEMA gym;
CREATE TABLE gym.clubs (code text PRIMARY KEY);
INSERT INTO gym.clubs VALUES ('a'), ('b');
CREATE TABLE gym.members (id integer PRIMARY KEY, club text NOT NULL REFERENCES gym.clubs, name text);
CREATE TABLE gym.visits (id integer PRIMARY KEY, member_id integer NOT NULL REFERENCES gym.members, note text);
CREATE TABLE gym.visit_items (id integer PRIMARY KEY, visit_id integer NOT NULL REFERENCES gym.visits, item text);
INSERT INTO gym.members VALUES (1, 'a', 'Ane'), (2, 'b', 'Bo');
INSERT INTO gym.visits VALUES (10, 1, 'Ane kom'), (20, 2, 'Bo kom');
INSERT INTO gym.visit_items VALUES (100, 10, 'håndklæde A'), (200, 20, 'håndklæde B');
SELECT gdpr.declare_tenant('gym', 'clubs', 'code');
SELECT gdpr.declare_subject('member', 'gym', 'members', 'id', 'club', '{name}', NULL, 'members');
SELECT gdpr.declare_table('gym', 'members', 'member', 'root', 'anonymize', 'M', 'M', 'p', 'b', 'r');
SELECT gdpr.declare_column('gym', 'members', 'name', 'name', 'constant', false, 'Anonym');
SELECT gdpr.declare_table('gym', 'visits', 'member', 'direct', 'delete', 'V', 'V', 'p', 'b', 'r',
                          p_link_column => 'member_id');
SELECT gdpr.declare_table('gym', 'visit_items', 'member', 'via', 'delete', 'I', 'I', 'p', 'b', 'r',
                          p_link_column => 'visit_id', p_parent_schema => 'gym', p_parent_table => 'visits',
                          p_parent_column => 'id');
SELECT gdpr.refresh_views();
"""


@pytest.fixture
def club_a_staff(conn) -> str:
    conn.execute(GYM)
    sfx = uuid.uuid4().hex[:8]
    group = f"grp_gym_{sfx}"
    conn.execute("SELECT gdpr.create_staff_group('a', %s)", (group,))
    conn.execute("SELECT gdpr.set_right(%s, 'members', 'register_access', 'write')", (group,))
    role = f"staff_gym_{sfx}"
    conn.execute("SELECT gdpr.add_staff('a', %s, ARRAY[%s]::name[])", (role, group))
    return role


def test_rows_without_the_club_column_are_seen_only_through_ones_own_subjects(conn, club_a_staff):
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(club_a_staff)))
    assert conn.execute("SELECT id FROM gym_app.visits ORDER BY id").fetchall() == [(10,)]
    assert conn.execute("SELECT id FROM gym_app.visit_items ORDER BY id").fetchall() == [(100,)]
    assert conn.execute("UPDATE gym_app.visits SET note = 'x' WHERE id = 20").rowcount == 0
    assert conn.execute("DELETE FROM gym_app.visit_items WHERE id = 200").rowcount == 0
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT note FROM gym.visits WHERE id = 20").fetchone()[0] == "Bo kom"


def test_rows_cannot_be_planted_on_another_clubs_subject(conn, club_a_staff):
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(club_a_staff)))
    with pytest.raises(errors.InsufficientPrivilege, match="own club"):
        conn.execute("INSERT INTO gym_app.visits (id, member_id, note) VALUES (30, 2, 'plantet')")
    with pytest.raises(errors.InsufficientPrivilege, match="own club"):
        conn.execute("INSERT INTO gym_app.visit_items (id, visit_id, item) VALUES (300, 20, 'plantet')")
    with pytest.raises(errors.InsufficientPrivilege, match="own club"):  # nor moved there
        conn.execute("UPDATE gym_app.visits SET member_id = 2 WHERE id = 10")
    conn.execute("INSERT INTO gym_app.visits (id, member_id, note) VALUES (11, 1, 'egen')")
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT count(*) FROM gym.visits WHERE member_id = 2").fetchone()[0] == 1
