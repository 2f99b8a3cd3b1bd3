"""The TiDB Cloud emulator: v1beta, Dedicated, Starter/Essential, IAM and billing APIs offline.

Each host module (`v1beta`, `dedicated`, `serverless`, `iam`, `billing`) renders its records in the
vendor's Swagger shapes and declares its routes; `data` computes the organization from a seed.
"""

from fleetlake.emulators.tidb_cloud.context import ApiKey
from fleetlake.emulators.tidb_cloud.data import SCALES, TiDBScale
from fleetlake.emulators.tidb_cloud.emulator import (
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    TABLES,
    TiDBCloudEmulator,
)

__all__ = [
    "DEFAULT_PRIVATE_KEY",
    "DEFAULT_PUBLIC_KEY",
    "SCALES",
    "TABLES",
    "ApiKey",
    "TiDBCloudEmulator",
    "TiDBScale",
]
