-- Staff groups and their rights (seed S6 "Luk for CPR i funktioner og rettigheder",
-- S12: the register can be restricted per employee here), and the vendor support
-- role's time-limited access to one club (seed S7: the vendor is blocked by default).
-- Staff groups ARE PostgreSQL roles (NOLOGIN); these tables say which club a group
-- belongs to and what it may do. Every change is audited by trigger (gdpr.audit_event).

CREATE TABLE gdpr.staff_group (
    group_role   name PRIMARY KEY,
    tenant       text NOT NULL,
    description  text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_group_tenant ON gdpr.staff_group (tenant);
COMMENT ON TABLE gdpr.staff_group IS 'Staff groups: NOLOGIN roles, each member of one tenant role and of pgdpr_staff';

-- A group's right per area (subject_kind.area: customers, staff). Missing row = the
-- defaults: view_sensitive not_allowed, register_access read. Several groups: the most
-- permissive wins (allowed > not_allowed > hidden; write > read > none).
CREATE TABLE gdpr.group_right (
    group_role       name NOT NULL REFERENCES gdpr.staff_group ON DELETE CASCADE,
    area             text NOT NULL CHECK (area ~ '^[a-z][a-z0-9_]{0,62}$'),
    view_sensitive   text NOT NULL DEFAULT 'not_allowed'
                     CHECK (view_sensitive IN ('allowed', 'not_allowed', 'hidden')),
    register_access  text NOT NULL DEFAULT 'read'
                     CHECK (register_access IN ('none', 'read', 'write')),
    PRIMARY KEY (group_role, area)
);
COMMENT ON TABLE gdpr.group_right IS 'Rights of a staff group per area: view sensitive values, register access';

-- The vendor's support role (pgdpr_support) sees a club's rows only while the club has
-- granted it access; the grant expires by itself (the policy compares with now()).
CREATE TABLE gdpr.support_grant (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant      text NOT NULL,
    granted_by  name NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CHECK (expires_at > granted_at)
);
CREATE INDEX support_grant_tenant ON gdpr.support_grant (tenant, expires_at) WHERE revoked_at IS NULL;
COMMENT ON TABLE gdpr.support_grant IS 'Time-limited access of the vendor support role to one club';
