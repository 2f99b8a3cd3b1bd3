"""Every third-party package that fleetlake's own code imports is one of its declared dependencies:
an import that works only because another package happens to pull it in breaks when that one changes."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_src_imports_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[\[<>=!~ ;]", spec, maxsplit=1)[0].lower() for spec in project["dependencies"]}
    imported: set[str] = set()
    for path in (ROOT / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    distributions = packages_distributions()
    third_party = {name for name in imported if name not in sys.stdlib_module_names and name != "fleetlake"}
    undeclared = {
        name: distributions.get(name, [name])
        for name in sorted(third_party)
        if not {d.lower() for d in distributions.get(name, [name])} & declared
    }
    assert undeclared == {}
    assert {"orjson", "urllib3", "dlt", "duckdb"} <= third_party
