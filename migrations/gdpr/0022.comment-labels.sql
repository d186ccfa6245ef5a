-- A table comment that still named an internal label: it cites docs/ instead.
-- depends: 0021.erase-random

COMMENT ON TABLE gdpr.rule IS 'Trigger rules (docs/rules.md): when, how often, only if, what';
