"""The Secoda emulator: the catalog, its entities and the audit log of a workspace, offline.

`data` lays the workspace out from a seed, `query` evaluates the catalog's filter and sort, `records`
renders the vendor's shapes, `listings`, `audit` and `routes` serve them under `/api/v1`, and `gateway`
checks bearer tokens and the rate limits.
"""

from fleetlake.emulators.secoda.data import NATIVE_TYPES, SCALES, SecodaScale
from fleetlake.emulators.secoda.emulator import DEFAULT_API_KEY, TABLES, SecodaEmulator

__all__ = ["DEFAULT_API_KEY", "NATIVE_TYPES", "SCALES", "TABLES", "SecodaEmulator", "SecodaScale"]
