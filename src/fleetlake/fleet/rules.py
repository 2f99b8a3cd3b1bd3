"""Posture checks: rules written as SQL over the fleet model and the raw tables, each finding a row of
`fleet.findings` with when it was first and last seen.

A rule is one `.sql` file: a header of `-- key: value` lines (`id`, `severity`, `title`, `fix`), then one
SELECT giving `vendor`, `account`, `resource_type`, `resource_id`, `resource_name` and `detail` per finding.
The bundled rules live beside this module (`checks/`); a user's own are the `.sql` files of a folder
(`fleetlake checks --rules DIR`, or `[fleetlake] checks_dir`). Rules run in the model's DuckDB, so they
see `fleet.*` and the raw tables under their seed datasets' names, and `fleet_now()`, the build's time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa

from fleetlake.errors import ConfigurationError

SEVERITIES = ("low", "medium", "high", "critical")
"""From least to most severe; `--fail-on high` fails on high and critical."""
FINDINGS_EXIT = 12
"""`fleetlake checks --fail-on S` exits with this when a finding of severity S or worse is open."""
HEADER = re.compile(r"^--\s*(id|severity|title|fix)\s*:\s*(.+?)\s*$")
FINDING_COLUMNS = ("vendor", "account", "resource_type", "resource_id", "resource_name", "detail")


@dataclass(frozen=True)
class Rule:
    """One posture rule: what it finds, how bad it is, how to fix it, and its query."""

    id: str
    severity: str
    title: str
    fix: str
    sql: str
    source: str
    """Where it comes from: `bundled` or the file's path."""


def parse_rule(text: str, source: str) -> Rule:
    """A rule from a file's text, or a `ConfigurationError` naming the file and what it lacks."""
    fields: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        match = HEADER.match(line)
        if match and not body:
            fields[match.group(1)] = match.group(2)
        elif line.strip() and not (line.lstrip().startswith("--") and not body):
            body.append(line)
    missing = [name for name in ("id", "severity", "title", "fix") if name not in fields]
    if missing or not body:
        lacks = ", ".join(f"`-- {name}: ...`" for name in missing) or "a SELECT after its header"
        raise ConfigurationError(
            f"The check rule {source} lacks {lacks}. A rule starts with `-- id:`, `-- severity:`, `-- title:` and "
            "`-- fix:` lines, then one SELECT giving vendor, account, resource_type, resource_id, resource_name "
            "and detail per finding."
        )
    severity = fields["severity"].lower()
    if severity not in SEVERITIES:
        raise ConfigurationError(
            f"The check rule {source} has severity {fields['severity']!r}; use one of {', '.join(SEVERITIES)}."
        )
    return Rule(fields["id"], severity, fields["title"], fields["fix"], "\n".join(body).rstrip().rstrip(";"), source)


def bundled_rules() -> list[Rule]:
    """The rules fleetlake ships, in id order."""
    folder = resources.files("fleetlake.fleet") / "checks"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [parse_rule(f.read_text(encoding="utf-8"), "bundled") for f in files]


def load_rules(folder: Path | None) -> list[Rule]:
    """The bundled rules, then the `.sql` files of `folder` (a user's own); ids must be unique."""
    rules = bundled_rules()
    if folder is not None:
        if not folder.is_dir():
            raise ConfigurationError(
                f"The checks folder {folder} does not exist or is not a folder. Point --rules (or [fleetlake] "
                "checks_dir) at a folder of .sql rule files."
            )
        rules += [parse_rule(path.read_text(encoding="utf-8"), str(path)) for path in sorted(folder.glob("*.sql"))]
    seen: dict[str, str] = {}
    for rule in rules:
        if rule.id in seen:
            raise ConfigurationError(
                f"Two check rules have the id {rule.id} ({seen[rule.id]} and {rule.source}); give each rule its own id."
            )
        seen[rule.id] = rule.source
    return rules


def at_least(severity: str, threshold: str) -> bool:
    """Whether `severity` is `threshold` or worse."""
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)


def run_rules(connection: duckdb.DuckDBPyConnection, rules: Sequence[Rule]) -> tuple[pa.Table, dict[str, str]]:
    """Every rule's findings as one table (rule_id, severity, title, fix, then the finding's columns), and
    the rules that could not run, with why: one broken rule costs the others nothing."""
    parts: list[pa.Table] = []
    errors: dict[str, str] = {}
    columns = ", ".join(f'CAST("{name}" AS VARCHAR) AS "{name}"' for name in FINDING_COLUMNS)
    for rule in rules:
        try:
            found = connection.execute(
                f"SELECT ? AS rule_id, ? AS severity, ? AS title, ? AS fix, {columns} FROM ({rule.sql})",  # noqa: S608
                [rule.id, rule.severity, rule.title, rule.fix],
            ).fetch_arrow_table()
        except duckdb.Error as error:
            errors[rule.id] = " ".join(str(error).split())[:300]
            continue
        parts.append(found)
    if not parts:
        empty = {name: pa.array([], pa.string()) for name in ("rule_id", "severity", "title", "fix", *FINDING_COLUMNS)}
        return pa.table(empty), errors
    return pa.concat_tables(parts), errors


def describe(rules: Iterable[Rule]) -> list[tuple[str, str, str]]:
    """(id, severity, title) of each rule, for `fleetlake checks --list`."""
    return [(rule.id, rule.severity, rule.title) for rule in rules]
