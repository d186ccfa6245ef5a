-- Rules run with their author's rights, and a run says why it stopped early
-- (docs/rules.md, "Who may do what through a rule" and "Stopping").
--
-- gdpr.rule.author: the role whose rights the rule runs with: whoever created it,
-- last changed its definition or last enabled it. The ticker checks that role's
-- register access and (for erasing rules) its erasure right at run time.
-- gdpr.rule_run.author: the author the run was checked against; stopped: why a run
-- ended before its work was done (cancelled, rule disabled, the author lost a right,
-- abandoned by the session that ran it), stopped_by: who stopped it.
-- depends: 0005.rules

ALTER TABLE gdpr.rule ADD COLUMN author name;
UPDATE gdpr.rule SET author = created_by;
ALTER TABLE gdpr.rule ALTER COLUMN author SET NOT NULL;
COMMENT ON COLUMN gdpr.rule.author IS
    'Role whose rights the rule runs with: its creator, or who last changed its definition or enabled it';

ALTER TABLE gdpr.rule_run ADD COLUMN author name, ADD COLUMN stopped text, ADD COLUMN stopped_by name;
COMMENT ON COLUMN gdpr.rule_run.author IS 'The rule''s author when the run started: the rights it ran with';
COMMENT ON COLUMN gdpr.rule_run.stopped IS
    'Why the run ended before its work was done (cancelled, rule disabled or deleted, a right lost, abandoned)';
COMMENT ON COLUMN gdpr.rule_run.stopped_by IS 'Who stopped the run (the ticker, or whoever cancelled it)';

-- Before this migration a stop was written into the skip counters as "stopped".
UPDATE gdpr.rule_run SET stopped = skipped ->> 'stopped', skipped = skipped - 'stopped' WHERE skipped ? 'stopped';

-- rule_history returns the new columns: a new result type needs a DROP (recreated
-- from sql/functions/gdpr.rules.sql right after the migrations).
DROP FUNCTION IF EXISTS gdpr.rule_history(bigint, text, integer);
