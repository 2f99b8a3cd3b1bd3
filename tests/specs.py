"""The vendors' own API descriptions in ../shared/specs, for tests that check shapes against them.

`TIDB_FILES` and `SKYSQL_FILES` map each emulator host (its path prefix) to the vendor files that
describe it, newest first: the vendor's CLI repository files where they describe an operation, the
older files otherwise (../shared/specs/README.md).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs"
TIDB_FILES = {
    "/api/v1beta": ["tidb-cloud-v1beta-openapi-original.json"],
    "/dedicated/v1beta1": [
        "tidbcloud-cli/dedicated.swagger.json",
        "tidb-cloud-dedicated-v1beta1-openapi-original.json",
    ],
    "/serverless/v1beta1": [
        "tidbcloud-cli/serverless-cluster.swagger.json",
        "tidbcloud-cli/serverless-branch.swagger.json",
        "tidbcloud-cli/serverless-export.swagger.json",
        "tidbcloud-cli/serverless-import.swagger.json",
        "tidbcloud-cli/serverless-auditlog.swagger.json",
        "tidb-cloud-starter-essential-v1beta1-openapi-original.json",
    ],
    "/iam/v1beta1": ["tidbcloud-cli/iam.swagger.json", "tidb-cloud-iam-v1beta1-openapi-original.json"],
    "/billing/v1beta1": ["tidb-cloud-billing-v1beta1-openapi-original.json"],
}
SKYSQL_FILES = {"/provisioning/v1": ["skysql-dps-openapi.json"]}


@cache
def document(name: str) -> dict[str, Any]:
    """A vendor file, parsed. One correction, where the vendor's current reference is newer: the
    2022 DPS file lists five service statuses, the current reference shows others ("pending_create")."""
    parsed = dict(json.loads((SPECS / name).read_text()))
    if name == "skysql-dps-openapi.json":
        status = parsed["definitions"]["v1.ServiceResponse"]["properties"]["status"]
        status["pattern"] = "^(" + "|".join(status.pop("enum")) + "|pending_[a-z_]+)$"
    return parsed


def shape(path: str) -> str:
    """A path with its placeholders blanked and the version prefix dropped: `/clusters/{}/imports`."""
    path = re.sub(r"\{[^}]+\}", "{}", path)
    return re.sub(r"^/v1beta1?(?=/)", "", path)


def described(mount: str, path: str) -> str:
    """A TiDB path as the vendor's files spell it: v1beta's with its prefix, v1beta1's from the host's root."""
    return mount + path if mount == "/api/v1beta" else path


def operation(files: list[str], path: str, method: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(document, operation) of the first file describing `method path` (relative to the host)."""
    for name in files:
        parsed = document(name)
        base = parsed.get("basePath") or ""
        for spec_path, operations in parsed["paths"].items():
            full = (base.rstrip("/") + spec_path) if base != "/" else spec_path
            if shape(full) == shape(path) and method in operations:
                return parsed, operations[method]
    return None


def schema(parsed: dict[str, Any], operation_: dict[str, Any], status: str = "200") -> dict[str, Any]:
    """The response schema of `status` (or the default answer), with the document's definitions."""
    declared = operation_["responses"].get(status) or operation_["responses"]["default"]
    return {**declared["schema"], "definitions": parsed.get("definitions", {})}
