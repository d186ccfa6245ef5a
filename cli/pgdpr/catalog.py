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
COLUMN_KEYS = {"category", "erase", "sensitive", "sensitive_when", "part_of_record", "label"}
SUBJECT_KEYS = {"table", "key", "tenant", "identifying", "anonymized", "area"}
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
    _unknown(set(catalog), {"tenant", "subject", "table"}, "(top level)")
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
        calls.append(("gdpr.forget_subject", {"p_kind": kind}))
        calls.append(("gdpr.declare_subject", {
            "p_kind": kind, "p_schema": schema, "p_table": table, "p_key": _text(spec, "key", entry, True),
            "p_tenant": _text(spec, "tenant", entry), "p_identifying": _strings(spec, "identifying", entry),
            "p_anonymized_column": _text(spec, "anonymized", entry), "p_area": _text(spec, "area", entry)}))
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
            calls.append(("gdpr.declare_column", {
                "p_schema": schema, "p_table": table, "p_column": column,
                "p_category": _text(col, "category", centry, True), "p_erase": erase,
                "p_sensitive": _flag(col, "sensitive", centry, False), "p_erase_constant": constant,
                "p_part_of_record": _flag(col, "part_of_record", centry, True),
                "p_label_da": _text(label, "da", centry + ".label"), "p_label_en": _text(label, "en", centry + ".label"),
                "p_sensitive_when": _text(col, "sensitive_when", centry)}))
    if not any(function != "gdpr.forget_subject" for function, _ in calls):
        raise PgdprError("the catalog declares nothing: no [tenant], [subject.*] or [[table]] entry")
    return calls


# What a re-apply may change, read back from the engine's catalog tables: one entry per
# tenant table, subject kind, declared table and declared column.
SNAPSHOT = {
    "tenant table": ("gdpr.tenant_table", "'tenant'"),
    "subject": ("gdpr.subject_kind", "x.kind"),
    "table": ("gdpr.catalog_table", "format('%I.%I', x.table_schema, x.table_name)"),
    "column": ("gdpr.catalog_column", "format('%I.%I.%I', x.table_schema, x.table_name, x.column_name)"),
}


def snapshot(conn: psycopg.Connection) -> dict[tuple[str, str], Any]:
    """The declarations in force, to tell what an apply changed."""
    found: dict[tuple[str, str], Any] = {}
    for what, (table, key) in SNAPSHOT.items():
        if conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]:
            for name, value in conn.execute(f"SELECT {key}, to_jsonb(x) FROM {table} x"):
                found[(what, name)] = value
    return found


def changes(before: dict, after: dict) -> list[str]:
    """What changed between two snapshots, one line each, in a stable order."""
    lines = []
    for key in sorted(set(before) | set(after)):
        what, name = key
        if key not in before:
            lines.append(f"added {what} {name}")
        elif key not in after:
            lines.append(f"removed {what} {name}")
        elif before[key] != after[key]:
            fields = sorted(k for k in set(before[key]) | set(after[key]) if before[key].get(k) != after[key].get(k))
            lines.append(f"changed {what} {name}: {', '.join(fields)}")
    return lines


def summarise(lines: list[str], limit: int = 8) -> list[str]:
    """The change lines to print: each one, or counts per change when there are many."""
    if len(lines) <= limit:
        return lines
    counts: dict[tuple[str, str], int] = {}
    for line in lines:
        verb, what = line.split(" ", 2)[:2]
        what = "tenant table" if what == "tenant" else what
        counts[(verb, what)] = counts.get((verb, what), 0) + 1
    return [f"{verb} {n} {what}(s)" for (verb, what), n in counts.items()]


def apply_file(conn: psycopg.Connection, path: Path) -> tuple[int, list[str]]:
    """Apply a catalog file; returns the number of calls and what changed."""
    before = snapshot(conn)
    calls = apply(conn, path)
    return calls, changes(before, snapshot(conn))


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
    return len(calls)
