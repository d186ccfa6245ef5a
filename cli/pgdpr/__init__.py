"""pgdpr: GDPR compliance done inside PostgreSQL; this package is the thin CLI that drives it."""

__version__ = "0.1.0"
