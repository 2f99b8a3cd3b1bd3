"""The SkySQL / MariaDB Cloud emulator: provisioning, organization, skybackup and billing APIs offline.

Each host module (`provisioning`, `organization`, `skybackup`, `billing`) renders its records in the
vendor's shapes and declares its routes; `data` computes the organization from a seed and `catalog`
holds the offering (providers, regions, topologies, versions, sizes).
"""

from fleetlake.emulators.skysql.context import PAGE_TOKEN_HEADER
from fleetlake.emulators.skysql.data import SCALES, SkySQLScale
from fleetlake.emulators.skysql.emulator import (
    DEFAULT_API_KEY,
    DEFAULT_BASE_URL,
    TABLES,
    SkySQLEmulator,
    key_id,
)

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_BASE_URL",
    "PAGE_TOKEN_HEADER",
    "SCALES",
    "TABLES",
    "SkySQLEmulator",
    "SkySQLScale",
    "key_id",
]
