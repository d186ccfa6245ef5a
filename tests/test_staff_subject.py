"""Staff are data subjects too (the seed's "customer and staff register"): the same
engine reports and erases them from the same catalog."""

from factory import make_club


def make_instructor(conn) -> int:
    make_club(conn, 1)
    staff_id = conn.execute("""INSERT INTO club.staff (club_id, first_name, last_name, email, phone, cpr)
                               VALUES (1, 'Søren', 'Instruktørsen', 'soren@example.dk', '+45 31313131', '0202851234')
                               RETURNING id""").fetchone()[0]
    conn.execute("""INSERT INTO club.classes (club_id, name, starts_at, instructor_id)
                    SELECT 1, 'Yoga ' || g, now() + g * interval '1 day', %s FROM generate_series(1, 3) g""",
                 (staff_id,))
    return staff_id


def test_staff_report_lists_the_classes_they_teach(conn):
    staff_id = make_instructor(conn)
    report = conn.execute("SELECT gdpr.insight_report('staff', %s, '1')", (str(staff_id),)).fetchone()[0]
    text = str(report)
    assert "Classes taught" in text or "Hold som instruktør" in text
    assert text.count("Yoga ") == 3


def test_staff_erasure_keeps_the_timetable_and_leaves_nothing_of_the_person(conn):
    staff_id = make_instructor(conn)
    summary = conn.execute("SELECT gdpr.anonymize('staff', %s, 'left the club', '1')", (str(staff_id),)).fetchone()[0]
    assert summary
    row = conn.execute("SELECT first_name, email, phone, cpr, anonymized_at IS NOT NULL FROM club.staff WHERE id = %s",
                       (staff_id,)).fetchone()
    assert row == ("Anonymiseret", None, None, None, True)
    assert conn.execute("SELECT count(*) FROM club.classes WHERE instructor_id = %s", (staff_id,)).fetchone()[0] == 3
    verdict = conn.execute("SELECT gdpr.verify_erased('staff', %s, '1')", (str(staff_id),)).fetchone()[0]
    assert verdict["hits"] == 0, verdict
