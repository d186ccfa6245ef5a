-- Who was shown a subject's sensitive values in clear (GDPR Art. 33(5), Art. 5(2):
-- evidence after a breach or a complaint). The report and the export record in their
-- audit event the caller's access level and which sensitive columns they showed in
-- clear ("unmasked": column names, never values; gdpr.insight_unmasked); this reads
-- them back per subject and period. Reads through the masking views are not recorded
-- per subject (docs/rights.md, "Who saw a sensitive value").
CREATE OR REPLACE FUNCTION gdpr.sensitive_disclosures(
    p_kind text, p_subject_key text, p_tenant text,
    p_from timestamptz DEFAULT NULL, p_to timestamptz DEFAULT NULL)
RETURNS TABLE (at timestamptz, actor name, login name, path text, format text, columns text[])
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT e.at, e.actor, e.login,
           CASE e.action WHEN 'insight_report' THEN 'report' WHEN 'export' THEN 'export' ELSE e.action END,
           e.details ->> 'format',
           ARRAY(SELECT pg_catalog.jsonb_array_elements_text(e.details -> 'unmasked') ORDER BY 1)
      FROM gdpr.audit_event e
     WHERE e.kind = p_kind AND e.subject_key = p_subject_key AND e.tenant IS NOT DISTINCT FROM p_tenant
       AND e.action IN ('insight_report', 'export')
       AND pg_catalog.jsonb_array_length(COALESCE(e.details -> 'unmasked', '[]')) > 0
       AND (p_from IS NULL OR e.at >= p_from) AND (p_to IS NULL OR e.at < p_to)
     ORDER BY e.at, e.id
$$;
REVOKE ALL ON FUNCTION gdpr.sensitive_disclosures(text, text, text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gdpr.sensitive_disclosures(text, text, text, timestamptz, timestamptz) TO pgdpr_admin;
COMMENT ON FUNCTION gdpr.sensitive_disclosures(text, text, text, timestamptz, timestamptz) IS
    'Who was shown a subject''s sensitive values in clear through the report or the export, when, which columns '
    '(GDPR Art. 33 evidence; admins)';
