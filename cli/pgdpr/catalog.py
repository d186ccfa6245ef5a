"""`pgdpr catalog apply FILE.toml`: a catalog file turned into gdpr.declare_* calls,
all in one transaction (a bad entry leaves the database as it was). The database
checks every name against pg_catalog; this module only reads the file's shape."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import psycopg

from pgdpr.db import PgdprError

TABLE_KEYS = {"name", "subject", "link", "on_erase", "retain", "title", "purpose", "legal_basis",
              "retention", "recipients", "source", "columns"}
COLUMN_KEYS = {"category", "erase", "sensitive", "sensitive_when", "part_of_record", "label", "basis"}
SUBJECT_KEYS = {"table", "key", "tenant", "identifying", "anonymized", "area", "birth_date"}
CONSENT_KEYS = {"table", "type", "withdrawn", "given", "guardian", "covers"}
COVER_KEYS = {"erase", "stop_messages", "description"}
TENANT_KEYS = {"table", "key", "name", "time_zone"}


def split_name(qualified: str, entry: str) -> tuple[str, str]:
    parts = qualified.split(".")
    if len(parts) != 2 or not all(parts):
        raise PgdprError(f"catalog entry {entry}: table name {qualified!r} must be schema.table")
    return parts[0], parts[1]


def load(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise PgdprError(f"cannot read catalog {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PgdprError(f"catalog {path} is not valid TOML: {exc}") from exc


def _unknown(keys: set[str], allowed: set[str], entry: str) -> None:
    extra = sorted(keys - allowed)
    if extra:
        raise PgdprError(f"catalog entry {entry}: unknown key(s) {', '.join(extra)}")


def _required(spec: dict, key: str, entry: str) -> Any:
    if key not in spec:
        raise PgdprError(f"catalog entry {entry}: {key} is required")
    return spec[key]


def link_arguments(link: Any, entry: str) -> dict[str, Any]:
    if link == "root":
        return {"p_link": "root"}
    if isinstance(link, dict) and set(link) == {"direct"}:
        return {"p_link": "direct", "p_link_column": link["direct"]}
    if isinstance(link, dict) and "via" in link and set(link) <= {"via", "parent", "parent_column"}:
        schema, table = split_name(_required(link, "parent", entry), entry)
        return {"p_link": "via", "p_link_column": link["via"], "p_parent_schema": schema,
                "p_parent_table": table, "p_parent_column": link.get("parent_column")}
    if isinstance(link, dict) and "owned_by" in link and set(link) <= {"owned_by", "key"}:
        return {"p_link": "owned", "p_link_column": link["owned_by"], "p_parent_column": link.get("key")}
    raise PgdprError(f"catalog entry {entry}: link must be \"root\", {{direct=...}}, "
                     f"{{via=..., parent=...}} or {{owned_by=...}}")


def declarations(catalog: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The (function, named arguments) calls that declare the file, in order."""
    calls: list[tuple[str, dict[str, Any]]] = []
    _unknown(set(catalog), {"tenant", "subject", "table", "consent", "legal_basis"}, "(top level)")
    for qualified, basis in catalog.get("legal_basis", {}).items():  # declared before their columns
        parts = qualified.split(".")
        if len(parts) != 3 or not all(parts):
            raise PgdprError(f"catalog entry legal_basis: {qualified!r} must be schema.table.column")
        calls.append(("gdpr.declare_column_basis", {
            "p_schema": parts[0], "p_table": parts[1], "p_column": parts[2], "p_basis": basis}))
    if "tenant" in catalog:
        spec = catalog["tenant"]
        _unknown(set(spec), TENANT_KEYS, "tenant")
        schema, table = split_name(_required(spec, "table", "tenant"), "tenant")
        calls.append(("gdpr.declare_tenant", {
            "p_schema": schema, "p_table": table, "p_key": _required(spec, "key", "tenant"),
            "p_name_column": spec.get("name"), "p_time_zone_column": spec.get("time_zone")}))
    for kind, spec in catalog.get("subject", {}).items():
        entry = f"subject.{kind}"
        _unknown(set(spec), SUBJECT_KEYS, entry)
        schema, table = split_name(_required(spec, "table", entry), entry)
        calls.append(("gdpr.forget_subject", {"p_kind": kind}))
        calls.append(("gdpr.declare_subject", {
            "p_kind": kind, "p_schema": schema, "p_table": table, "p_key": _required(spec, "key", entry),
            "p_tenant": spec.get("tenant"), "p_identifying": list(spec.get("identifying", [])),
            "p_anonymized_column": spec.get("anonymized"), "p_area": spec.get("area")}))
        if spec.get("birth_date"):  # children are flagged (Databeskyttelsesloven § 6)
            calls.append(("gdpr.declare_birth_date", {"p_kind": kind, "p_column": spec["birth_date"]}))
    for position, spec in enumerate(catalog.get("table", [])):
        entry = f"table {spec.get('name', f'#{position + 1}')}"
        _unknown(set(spec), TABLE_KEYS, entry)
        schema, table = split_name(_required(spec, "name", entry), entry)
        title = _required(spec, "title", entry)
        if not isinstance(title, dict) or not {"da", "en"} <= set(title):
            raise PgdprError(f"catalog entry {entry}: title needs da and en")
        args: dict[str, Any] = {
            "p_schema": schema, "p_table": table, "p_kind": _required(spec, "subject", entry),
            "p_on_erase": _required(spec, "on_erase", entry),
            "p_title_da": title["da"], "p_title_en": title["en"],
            "p_purpose": _required(spec, "purpose", entry),
            "p_legal_basis": _required(spec, "legal_basis", entry),
            "p_retention": _required(spec, "retention", entry),
            "p_recipients": spec.get("recipients"), "p_source": spec.get("source"),
            "p_position": position,
        }
        args.update(link_arguments(_required(spec, "link", entry), entry))
        retain = spec.get("retain")
        if retain is not None:
            _unknown(set(retain), {"from", "period", "from_year_end"}, entry + ".retain")
            args.update({"p_retain_column": retain.get("from"), "p_retain_period": retain.get("period"),
                         "p_retain_from_year_end": bool(retain.get("from_year_end", False))})
        calls.append(("gdpr.declare_table", args))
        for column, col in spec.get("columns", {}).items():
            centry = f"column {schema}.{table}.{column}"
            _unknown(set(col), COLUMN_KEYS, centry)
            erase = str(col.get("erase", "null"))
            constant = None
            if erase.startswith("constant:"):
                erase, constant = "constant", erase.split(":", 1)[1]
            label = col.get("label", {})
            if col.get("basis"):  # Art. 9(2) / Databeskyttelsesloven § 11, declared before the column
                calls.append(("gdpr.declare_column_basis", {
                    "p_schema": schema, "p_table": table, "p_column": column, "p_basis": col["basis"]}))
            calls.append(("gdpr.declare_column", {
                "p_schema": schema, "p_table": table, "p_column": column,
                "p_category": _required(col, "category", centry), "p_erase": erase,
                "p_sensitive": bool(col.get("sensitive", False)), "p_erase_constant": constant,
                "p_part_of_record": bool(col.get("part_of_record", True)),
                "p_label_da": label.get("da"), "p_label_en": label.get("en"),
                "p_sensitive_when": col.get("sensitive_when")}))
    for kind, spec in catalog.get("consent", {}).items():  # what a consent covers (Art. 7(3))
        entry = f"consent.{kind}"
        _unknown(set(spec), CONSENT_KEYS, entry)
        schema, table = split_name(_required(spec, "table", entry), entry)
        calls.append(("gdpr.declare_consent_table", {
            "p_kind": kind, "p_schema": schema, "p_table": table, "p_type_column": _required(spec, "type", entry),
            "p_withdrawn_column": _required(spec, "withdrawn", entry), "p_given_column": spec.get("given"),
            "p_guardian_column": spec.get("guardian")}))
        for consent_type, cover in spec.get("covers", {}).items():
            _unknown(set(cover), COVER_KEYS, f"{entry}.covers.{consent_type}")
            calls.append(("gdpr.declare_consent_cover", {
                "p_kind": kind, "p_consent_type": consent_type, "p_erase_columns": list(cover.get("erase", [])),
                "p_stop_templates": list(cover.get("stop_messages", [])), "p_description": cover.get("description")}))
    return calls


def apply(conn: psycopg.Connection, path: Path) -> int:
    """Declare every entry of the file in one transaction; returns the number of calls."""
    calls = declarations(load(path))
    with conn.transaction():
        for function, args in calls:
            named = ", ".join(f"{name} => %({name})s" for name in args)
            conn.execute(f"SELECT {function}({named})", args)
        # regenerate the protected views and row policies from the new catalog
        if conn.execute("SELECT to_regprocedure('gdpr.refresh_views()') IS NOT NULL").fetchone()[0]:
            conn.execute("SELECT gdpr.refresh_views()")
    # the trigram indexes of the erasure's search for mentions in free text: built
    # concurrently after the transaction on an autocommit connection, else in the
    # caller's transaction (gdpr.mention_index_plan / gdpr.install_mention_indexes)
    if conn.execute("SELECT to_regprocedure('gdpr.mention_index_plan(boolean)') IS NOT NULL").fetchone()[0]:
        if conn.autocommit:
            for (statement,) in conn.execute(
                    "SELECT statement FROM gdpr.mention_index_plan(true) ORDER BY step").fetchall():
                conn.execute(statement)
        else:
            conn.execute("SELECT gdpr.install_mention_indexes()")
    return len(calls)
