-- The tenants' own table (the clubs): where a tenant's display name and time zone
-- live, declared once in the catalog instead of known to engine functions by name.
-- depends: 0005.rules

CREATE TABLE gdpr.tenant_table (
    singleton         boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    table_schema      name NOT NULL,
    table_name        name NOT NULL,
    key_column        name NOT NULL,
    name_column       name,
    time_zone_column  name
);
COMMENT ON TABLE gdpr.tenant_table IS 'The table whose rows are the tenants (data controllers), declared by the catalog';

-- replaced by gdpr.tenant_time_zone(text), which reads gdpr.tenant_table
DROP FUNCTION IF EXISTS gdpr.tenant_time_zone(text, text);
