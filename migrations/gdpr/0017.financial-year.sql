-- The financial year of each tenant (Bogføringsloven § 10: accounting records are kept
-- 5 years from the end of the financial year). Without a row here a tenant's financial
-- year is the calendar year; a row declares the month its financial year begins (the
-- 1st of that month, in the tenant's time zone). Set with gdpr.set_financial_year().
-- depends: 0006.tenant

CREATE TABLE gdpr.tenant_financial_year (
    tenant       text PRIMARY KEY,
    first_month  smallint NOT NULL CHECK (first_month BETWEEN 1 AND 12),
    set_at       timestamptz NOT NULL DEFAULT now(),
    set_by       name NOT NULL
);
COMMENT ON TABLE gdpr.tenant_financial_year IS
    'The month each tenant''s financial year begins (default: January); the end of the year starts retention';
