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


def _expect(value: Any, types: type | tuple[type, ...], entry: str, key: str, what: str) -> Any:
    """A value of the file must have the right TOML type: one line naming the entry if not."""
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        raise PgdprError(f"catalog entry {entry}: {key} must be {what}, not {_toml_type(value)} {value!r}")
    return value


def _as_tuple(types) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def _toml_type(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array",
            dict: "a table"}.get(type(value), type(value).__name__)


def _text(spec: dict, key: str, entry: str, required: bool = False) -> str | None:
    value = _required(spec, key, entry) if required else spec.get(key)
    return None if value is None else _expect(value, str, entry, key, "a string")


def _strings(spec: dict, key: str, entry: str) -> list[str]:
    values = _expect(spec.get(key, []), list, entry, key, "an array of strings")
    for value in values:
        _expect(value, str, entry, key, "an array of strings")
    return list(values)


def _flag(spec: dict, key: str, entry: str, default: bool) -> bool:
    return _expect(spec.get(key, default), bool, entry, key, "true or false")


def _table(spec: Any, entry: str, key: str) -> dict:
    return _expect(spec, dict, entry, key, "a table")


def split_name(qualified: Any, entry: str) -> tuple[str, str]:
    _expect(qualified, str, entry, "the table name", "a string schema.table")
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
    except UnicodeDecodeError as exc:
        raise PgdprError(f"catalog {path} is not UTF-8 text (byte {exc.start + 1})") from exc
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
    if isinstance(link, dict):
        for key, value in link.items():
            _expect(value, str, entry, f"link.{key}", "a string")
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
    _unknown(set(catalog), {"tenant", "subject", "table", "consent", "legal_basis", "not_personal"}, "(top level)")
    for qualified, basis in catalog.get("legal_basis", {}).items():  # declared before their columns
        parts = qualified.split(".")
        if len(parts) != 3 or not all(parts):
            raise PgdprError(f"catalog entry legal_basis: {qualified!r} must be schema.table.column")
        calls.append(("gdpr.declare_column_basis", {
            "p_schema": parts[0], "p_table": parts[1], "p_column": parts[2], "p_basis": basis}))
    if "tenant" in catalog:
        spec = _table(catalog["tenant"], "tenant", "[tenant]")
        _unknown(set(spec), TENANT_KEYS, "tenant")
        schema, table = split_name(_required(spec, "table", "tenant"), "tenant")
        calls.append(("gdpr.declare_tenant", {
            "p_schema": schema, "p_table": table, "p_key": _text(spec, "key", "tenant", True),
            "p_name_column": _text(spec, "name", "tenant"), "p_time_zone_column": _text(spec, "time_zone", "tenant")}))
    for kind, spec in _table(catalog.get("subject", {}), "subject", "[subject]").items():
        entry = f"subject.{kind}"
        spec = _table(spec, entry, f"[subject.{kind}]")
        _unknown(set(spec), SUBJECT_KEYS, entry)
        schema, table = split_name(_required(spec, "table", entry), entry)
        calls.append(("gdpr.declare_subject", {
            "p_kind": kind, "p_schema": schema, "p_table": table, "p_key": _text(spec, "key", entry, True),
            "p_tenant": _text(spec, "tenant", entry), "p_identifying": _strings(spec, "identifying", entry),
            "p_anonymized_column": _text(spec, "anonymized", entry), "p_area": _text(spec, "area", entry)}))
        if spec.get("birth_date") is not None:  # children are flagged (Databeskyttelsesloven § 6)
            calls.append(("gdpr.declare_birth_date", {"p_kind": kind, "p_column": _text(spec, "birth_date", entry)}))
    tables = _expect(catalog.get("table", []), list, "[[table]]", "table", "an array of tables ([[table]])")
    for position, spec in enumerate(tables):
        spec = _table(spec, f"table #{position + 1}", "[[table]]")
        name = spec.get("name")
        entry = f"table {name if isinstance(name, str) else f'#{position + 1}'}"
        _unknown(set(spec), TABLE_KEYS, entry)
        schema, table = split_name(_required(spec, "name", entry), entry)
        title = _required(spec, "title", entry)
        if not isinstance(title, dict) or not {"da", "en"} <= set(title):
            raise PgdprError(f"catalog entry {entry}: title needs da and en")
        args: dict[str, Any] = {
            "p_schema": schema, "p_table": table, "p_kind": _text(spec, "subject", entry, True),
            "p_on_erase": _text(spec, "on_erase", entry, True),
            "p_title_da": _text(title, "da", entry + ".title"), "p_title_en": _text(title, "en", entry + ".title"),
            "p_purpose": _text(spec, "purpose", entry, True),
            "p_legal_basis": _text(spec, "legal_basis", entry, True),
            "p_retention": _text(spec, "retention", entry, True),
            "p_recipients": _text(spec, "recipients", entry), "p_source": _text(spec, "source", entry),
            "p_position": position,
        }
        args.update(link_arguments(_required(spec, "link", entry), entry))
        retain = spec.get("retain")
        if retain is not None:
            retain = _table(retain, entry, "retain")
            _unknown(set(retain), {"from", "period", "from_year_end"}, entry + ".retain")
            args.update({"p_retain_column": _text(retain, "from", entry + ".retain"),
                         "p_retain_period": _text(retain, "period", entry + ".retain"),
                         "p_retain_from_year_end": _flag(retain, "from_year_end", entry + ".retain", False)})
        calls.append(("gdpr.declare_table", args))
        for column, col in _table(spec.get("columns", {}), entry, "columns").items():
            centry = f"column {schema}.{table}.{column}"
            col = _table(col, centry, "its declaration")
            _unknown(set(col), COLUMN_KEYS, centry)
            erase = _expect(col.get("erase", "null"), str, centry, "erase", "a string")
            constant = None
            if erase.startswith("constant:"):
                erase, constant = "constant", erase.split(":", 1)[1]
            label = _table(col.get("label", {}), centry, "label")
            if col.get("basis") is not None:  # Art. 9(2) / Databeskyttelsesloven § 11, before the column
                calls.append(("gdpr.declare_column_basis", {
                    "p_schema": schema, "p_table": table, "p_column": column, "p_basis": _text(col, "basis", centry)}))
            calls.append(("gdpr.declare_column", {
                "p_schema": schema, "p_table": table, "p_column": column,
                "p_category": _text(col, "category", centry, True), "p_erase": erase,
                "p_sensitive": _flag(col, "sensitive", centry, False), "p_erase_constant": constant,
                "p_part_of_record": _flag(col, "part_of_record", centry, True),
                "p_label_da": _text(label, "da", centry + ".label"), "p_label_en": _text(label, "en", centry + ".label"),
                "p_sensitive_when": _text(col, "sensitive_when", centry)}))
    for kind, spec in _table(catalog.get("consent", {}), "consent", "[consent]").items():  # Art. 7(3)
        entry = f"consent.{kind}"
        spec = _table(spec, entry, f"[consent.{kind}]")
        _unknown(set(spec), CONSENT_KEYS, entry)
        schema, table = split_name(_required(spec, "table", entry), entry)
        calls.append(("gdpr.declare_consent_table", {
            "p_kind": kind, "p_schema": schema, "p_table": table, "p_type_column": _text(spec, "type", entry, True),
            "p_withdrawn_column": _text(spec, "withdrawn", entry, True), "p_given_column": _text(spec, "given", entry),
            "p_guardian_column": _text(spec, "guardian", entry)}))
        for consent_type, cover in _table(spec.get("covers", {}), entry, "covers").items():
            centry = f"{entry}.covers.{consent_type}"
            cover = _table(cover, centry, "its declaration")
            _unknown(set(cover), COVER_KEYS, centry)
            calls.append(("gdpr.declare_consent_cover", {
                "p_kind": kind, "p_consent_type": consent_type, "p_erase_columns": _strings(cover, "erase", centry),
                "p_stop_templates": _strings(cover, "stop_messages", centry),
                "p_description": _text(cover, "description", centry)}))
    for qualified, reason in _table(catalog.get("not_personal", {}), "not_personal", "[not_personal]").items():
        parts = qualified.split(".")
        if len(parts) not in (2, 3) or not all(parts):
            raise PgdprError(f"catalog entry not_personal: {qualified!r} must be schema.table or schema.table.column")
        calls.append(("gdpr.declare_not_personal", {
            "p_schema": parts[0], "p_table": parts[1], "p_column": parts[2] if len(parts) == 3 else None,
            "p_reason": _expect(reason, str, f"not_personal.{qualified}", "the reason", "a string")}))
    if not calls:
        raise PgdprError("the catalog declares nothing: no [tenant], [subject.*] or [[table]] entry")
    return calls


def declared_names(calls: list[tuple[str, dict[str, Any]]]) -> tuple[list[str], list[str], list[str]]:
    """The subject kinds, tables (schema.table) and columns (schema.table.column) the calls declare."""
    kinds = [a["p_kind"] for f, a in calls if f == "gdpr.declare_subject"]
    tables = [f"{a['p_schema']}.{a['p_table']}" for f, a in calls if f == "gdpr.declare_table"]
    columns = [f"{a['p_schema']}.{a['p_table']}.{a['p_column']}" for f, a in calls if f == "gdpr.declare_column"]
    return kinds, tables, columns


def summarise(lines: list[str], limit: int = 8) -> list[str]:
    """The change lines to print: each one, or counts per change when there are many."""
    if len(lines) <= limit:
        return lines
    counts: dict[tuple[str, str], int] = {}
    for line in lines:
        verb, what = line.split(" ", 2)[:2]
        counts[(verb, what)] = counts.get((verb, what), 0) + 1
    return [f"{verb} {n} {what}(s)" for (verb, what), n in counts.items()]


def apply(conn: psycopg.Connection, path: Path, dry_run: bool = False) -> tuple[int, list[str]]:
    """Declare every entry of the file in one transaction, as a diff: what the file no
    longer names of its kinds is removed from the catalog, nothing else (holds, rules,
    ledger, proofs stay). Returns the number of declarations and what changed, one
    line each, from the catalog's audit events (empty: nothing changed); with dry_run
    the transaction is rolled back."""
    calls = declarations(load(path))
    kinds, tables, columns = declared_names(calls)
    with conn.transaction() as transaction:
        (before,) = conn.execute("SELECT COALESCE(max(id), 0) FROM gdpr.audit_event").fetchone()
        for function, args in calls:
            named = ", ".join(f"{name} => %({name})s" for name in args)
            conn.execute(f"SELECT {function}({named})", args)
        conn.execute("SELECT gdpr.prune_catalog(%s, %s, %s)", (kinds, tables, columns))
        conn.execute("SELECT gdpr.check_erasure_plan()")  # refused now, not at someone's erasure
        # regenerate the protected views and row policies from the new catalog
        conn.execute("SELECT gdpr.refresh_views()")
        changes = [r[0] for r in conn.execute("SELECT change FROM gdpr.catalog_changes_since(%s)", (before,))]
        if dry_run:
            raise psycopg.Rollback(transaction)
    # the trigram indexes of the erasure's search for mentions in free text: built
    # concurrently after the transaction on an autocommit connection, else in the
    # caller's transaction (gdpr.mention_index_plan / gdpr.install_mention_indexes)
    if dry_run:
        pass
    elif conn.autocommit:
        for (statement,) in conn.execute(
                "SELECT statement FROM gdpr.mention_index_plan(true) ORDER BY step").fetchall():
            conn.execute(statement)
    else:
        conn.execute("SELECT gdpr.install_mention_indexes()")
    return len(calls), changes
