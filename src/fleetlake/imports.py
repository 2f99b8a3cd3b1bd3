"""pandas in a fleetlake process: imported before worker threads start, or kept out of `fleetlake run`.

fleetlake never hands pandas objects to anyone, but pyarrow imports pandas the first time it converts a
Python list (only to ask whether the list is a pandas object), and dlt does that during every load with
Arrow tables. Two consequences:

- pandas then gets imported inside one of dlt's worker threads while another thread looks at
  `sys.modules["pandas"]` and finds a half-imported module ("partially initialized module 'pandas'"),
  and the run fails. `import_pandas_before_threads` imports it first, in the thread that builds a source;
  `import_before_threads` imports it and pyarrow before runs of several accounts start side by side (dlt
  asks `sys.modules` about pyarrow the same way, from every run's thread).
- pandas costs a process some 40 MB of memory and half a second to import. The command line's own
  process, loading into the built-in DuckDB, never needs it: `keep_pandas_out` makes it look not
  installed there, so pyarrow and dlt take their paths for a machine without pandas. A library user's
  process is left alone: `pipeline.dataset().table.df()` needs pandas, and other destinations' drivers
  (Databricks') import it too.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

KEPT_OUT = "pandas"


class _NotInstalled(importlib.abc.MetaPathFinder):
    """Fails `import pandas` as Python does for a package that is not installed.

    A finder on `sys.meta_path` (Python's public import hook), not `sys.modules["pandas"] = None`, the
    documented marker of a blocked import: pyarrow's compiled import takes a module found in
    `sys.modules` as it is, and then fails on `None.__version__` in the middle of a load
    (`tests/test_imports.py` runs a load with pandas kept out, so either way breaking shows there).

    (`importlib.util.find_spec("pandas")` raises too, where Python would return None: nothing on the
    command line's path asks that way.)
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == KEPT_OUT or fullname.startswith(KEPT_OUT + "."):
            # ModuleNotFoundError, as for a missing package: pyarrow and dlt catch exactly that
            raise ModuleNotFoundError(f"No module named {fullname!r} (kept out of this process)", name=fullname)
        return None


def keep_pandas_out() -> bool:
    """Make pandas look not installed in this process; False if it was imported already.

    For the command line's own process only (see the module's text): for the rest of the process,
    `import pandas` raises `ModuleNotFoundError` and pyarrow cannot convert to pandas.
    """
    if KEPT_OUT in sys.modules:
        return False
    if not any(isinstance(finder, _NotInstalled) for finder in sys.meta_path):
        sys.meta_path.insert(0, _NotInstalled())
    return True


def import_pandas_before_threads() -> None:
    """Import pandas now, in this thread, if it is installed and not kept out (see the module's text)."""
    if KEPT_OUT in sys.modules:
        return
    with contextlib.suppress(ModuleNotFoundError):
        importlib.import_module(KEPT_OUT)


def import_before_threads() -> None:
    """Import pyarrow, and pandas unless kept out, before threads that each run a pipeline start: each
    run's thread asks `sys.modules` about both (dlt's `is_arrow_object`, `is_pandas_frame`) while another
    may be importing them."""
    importlib.import_module("pyarrow")
    import_pandas_before_threads()
