"""Fixed reference data of the SkySQL emulator: providers, regions, topologies, versions, sizes, names.

The offering lists are the same for every seed, as they are for every customer of the vendor; their
ids are UUIDs derived from the record's name, so they never change between runs.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass


def uid(*parts: int | str) -> str:
    """A stable UUID (version 4 layout) for a record named by `parts`."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


@dataclass(frozen=True)
class Provider:
    """A cloud provider and its storage limits."""

    name: str
    display_name: str
    volume_size_min_gb: int
    volume_size_max_gb: int
    iops_per_gb: int
    iops_min: int
    volume_type: str
    """The storage volume type services on this provider get."""

    @property
    def id(self) -> str:
        """The provider's id."""
        return uid("provider", self.name)


PROVIDERS: tuple[Provider, ...] = (
    Provider("aws", "Amazon AWS", 100, 10_000, 50, 3000, "gp3"),
    Provider("gcp", "Google Cloud", 100, 10_000, 0, 0, "pd-ssd"),
    Provider("azure", "Microsoft Azure", 100, 8_192, 0, 0, "StandardSSD_LRS"),
)


@dataclass(frozen=True)
class Region:
    """A region a service can run in."""

    provider: str
    name: str
    """The provider's own code: us-east-1, us-central1, eastus."""
    area: str
    default: bool
    zones: tuple[str, ...]

    @property
    def id(self) -> str:
        """The region's id."""
        return uid("region", self.provider, self.name)


def _aws(name: str, area: str, default: bool = False) -> Region:
    return Region("aws", name, area, default, tuple(name + z for z in "abc"))


def _gcp(name: str, area: str, default: bool = False) -> Region:
    return Region("gcp", name, area, default, tuple(f"{name}-{z}" for z in "abc"))


def _azure(name: str, area: str, default: bool = False) -> Region:
    return Region("azure", name, area, default, tuple(f"{name}-{z}" for z in "123"))


REGIONS: tuple[Region, ...] = (
    _aws("us-east-1", "Americas", default=True),
    _aws("us-east-2", "Americas"),
    _aws("us-west-2", "Americas"),
    _aws("eu-central-1", "Europe"),
    _aws("eu-west-1", "Europe"),
    _aws("ap-southeast-1", "APAC"),
    _gcp("us-central1", "Americas", default=True),
    _gcp("us-east4", "Americas"),
    _gcp("europe-west1", "Europe"),
    _gcp("europe-west4", "Europe"),
    _gcp("asia-southeast1", "APAC"),
    _azure("eastus", "Americas", default=True),
    _azure("westeurope", "Europe"),
    _azure("southeastasia", "APAC"),
)
MAINTENANCE_WINDOWS = {
    "Americas": "Sun 06:00-10:00 UTC",
    "Europe": "Sun 01:00-05:00 UTC",
    "APAC": "Sat 17:00-21:00 UTC",
}


@dataclass(frozen=True)
class ServiceType:
    """A database service type (transactional, analytical), as /provisioning/v1/service-types lists it."""

    name: str
    display_name: str
    short_description: str
    description: str
    order: int

    @property
    def id(self) -> str:
        """The service type's id."""
        return uid("service-type", self.name)


SERVICE_TYPES: tuple[ServiceType, ...] = (
    ServiceType(
        "transactional",
        "Transactions",
        "Transactional workloads",
        "Fast, reliable transactions for applications: Enterprise Server and Xpand.",
        1,
    ),
    ServiceType(
        "analytical",
        "Analytics",
        "Analytical workloads",
        "Columnar and serverless analytics over large data sets.",
        2,
    ),
)


@dataclass(frozen=True)
class Topology:
    """A deployment topology (es-replica, xpand...)."""

    name: str
    display_name: str
    service_type: str
    storage_engine: str
    order: int

    @property
    def id(self) -> str:
        """The topology's id."""
        return uid("topology", self.name)


TOPOLOGIES: tuple[Topology, ...] = (
    Topology("es-single", "Enterprise Server Single Node", "transactional", "InnoDB", 1),
    Topology("es-replica", "Enterprise Server With Replica(s)", "transactional", "InnoDB", 2),
    Topology("xpand", "Xpand Distributed SQL", "transactional", "Xpand", 3),
    Topology("csdw", "ColumnStore Data Warehouse", "analytical", "ColumnStore", 4),
    Topology("sa", "Serverless Analytics", "analytical", "Apache Spark SQL", 5),
)
TOPOLOGY_BY_NAME = {t.name: t for t in TOPOLOGIES}


@dataclass(frozen=True)
class Version:
    """A database version offered for one topology."""

    topology: str
    version: str
    product: str
    release_date: str
    is_major: bool

    @property
    def id(self) -> str:
        """The version's id."""
        return uid("version", self.topology, self.version)

    @property
    def name(self) -> str:
        """`10.6.16-11` as the vendor names versions: the product's version string."""
        return self.version


VERSIONS: tuple[Version, ...] = (
    Version("es-single", "10.6.16-11", "MariaDB Enterprise Server", "2024-02-12", False),
    Version("es-single", "11.4.4-2", "MariaDB Enterprise Server", "2025-01-20", True),
    Version("es-replica", "10.6.16-11", "MariaDB Enterprise Server", "2024-02-12", False),
    Version("es-replica", "11.4.4-2", "MariaDB Enterprise Server", "2025-01-20", True),
    Version("xpand", "23.09.1", "MariaDB Xpand", "2023-11-02", True),
    Version("csdw", "23.10.2", "MariaDB Enterprise ColumnStore", "2024-05-14", True),
    Version("sa", "3.5.1", "Apache Spark SQL", "2024-03-01", True),
)


@dataclass(frozen=True)
class Size:
    """A node size offered for one provider, topology and architecture."""

    name: str
    provider: str
    topology: str
    architecture: str
    cpu: int
    ram_gb: int
    tier: str
    created: str
    """ISO time the size was added to the offering (sizes are the one list with ISO times)."""

    @property
    def id(self) -> str:
        """The size's id."""
        return uid("size", self.provider, self.topology, self.architecture, self.name)

    @property
    def display_name(self) -> str:
        """`Sky-4x16`."""
        return "Sky" + self.name.removeprefix("sky")


SIZE_SHAPES = ((2, 8), (4, 16), (8, 32), (16, 64), (32, 128))
SIZED_TOPOLOGIES = ("es-single", "es-replica", "xpand", "csdw")


def _sizes() -> tuple[Size, ...]:
    out: list[Size] = []
    for p, provider in enumerate(PROVIDERS):
        for t, topology in enumerate(SIZED_TOPOLOGIES):
            architectures = ("amd64", "arm64") if provider.name == "aws" and topology != "csdw" else ("amd64",)
            for architecture in architectures:
                for n, (cpu, ram) in enumerate(SIZE_SHAPES):
                    created = f"2022-{10 + p:02d}-{12 + t:02d}T14:{40 + n:02d}:00Z"
                    if architecture == "arm64":
                        created = f"2023-06-{5 + t:02d}T09:{10 + n:02d}:00Z"
                    tier = "power" if cpu == 32 else "foundation"
                    out.append(Size(f"sky-{cpu}x{ram}", provider.name, topology, architecture, cpu, ram, tier, created))
    return tuple(out)


SIZES: tuple[Size, ...] = _sizes()
MAXSCALE_SIZE = "sky-2x4"

ORG_NAMES = ("Northwind Traders", "Acme Analytics", "Bluefin Logistics", "Contoso Health", "Globex Retail")
ORG_DOMAINS = ("northwind.example", "acme.example", "bluefin.example", "contoso.example", "globex.example")
PROJECT_NAMES = ("Default Project", "Production", "Analytics", "Staging", "Payments", "Internal Tools")
ENVIRONMENTS = ("prod", "prod", "staging", "dev", "qa")
DOMAINS = ("orders", "billing", "catalog", "users", "events", "inventory", "search", "ledger", "crm")
FIRST_NAMES = ("Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kemal")
LAST_NAMES = ("Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Sato", "Tanaka")
ORG_ROLES = (("org-admin",), ("org-member",), ("org-member",), ("billing-viewer",), ("org-member", "dba"))
DATABASE_NAMES = ("app", "orders", "analytics", "audit", "sessions", "inventory", "reporting")
DB_USER_NAMES = ("app_rw", "app_ro", "etl", "reporting", "migrations", "grafana")


@dataclass(frozen=True)
class VolumeType:
    """A storage volume type of one provider (the DPS file's `v1.VolumeTypeResponse`)."""

    provider: str
    name: str
    display_name: str
    created: int
    """When the type was added to the offering, unix seconds (the DPS file types it as an integer)."""

    @property
    def id(self) -> str:
        """The volume type's id."""
        return uid("volume-type", self.provider, self.name)

    @property
    def is_default(self) -> bool:
        """Whether new services on the provider get this type."""
        return any(p.name == self.provider and p.volume_type == self.name for p in PROVIDERS)


VOLUME_TYPES: tuple[VolumeType, ...] = (
    VolumeType("aws", "gp3", "General Purpose SSD (gp3)", 1_665_585_600),
    VolumeType("aws", "io1", "Provisioned IOPS SSD (io1)", 1_665_585_600),
    VolumeType("gcp", "pd-ssd", "SSD Persistent Disk", 1_665_585_600),
    VolumeType("azure", "StandardSSD_LRS", "Standard SSD", 1_667_260_800),
)


@dataclass(frozen=True)
class Tier:
    """A service tier (the DPS file's `v1.Tier`: "Availability tier, e.g. Power, Foundation")."""

    name: str
    display_name: str
    description: str
    topologies: tuple[str, ...]

    @property
    def id(self) -> str:
        """The tier's id."""
        return uid("tier", self.name)


TIERS: tuple[Tier, ...] = (
    Tier("foundation", "Foundation", "Shared infrastructure, standard support.", tuple(t.name for t in TOPOLOGIES)),
    Tier("power", "Power", "Dedicated infrastructure, enterprise support and SLA.", SIZED_TOPOLOGIES),
)


@dataclass(frozen=True)
class ConfigVariable:
    """A server variable a product's configs may set (the DPS file's `v1.ConfigVariableResponse`)."""

    name: str
    type: str
    values: tuple[str, ...]
    requires_restart: bool
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Product:
    """A product services run (the DPS file's `v1.Product`), with the topologies using it and its variables."""

    name: str
    display_name: str
    topologies: tuple[str, ...]
    variables: tuple[ConfigVariable, ...]

    @property
    def id(self) -> str:
        """The product's id."""
        return uid("product", self.name)


_SQL_MODES = ("STRICT_TRANS_TABLES", "NO_ZERO_DATE", "ERROR_FOR_DIVISION_BY_ZERO", "NO_ENGINE_SUBSTITUTION")
PRODUCTS: tuple[Product, ...] = (
    Product(
        "enterprise-server",
        "MariaDB Enterprise Server",
        ("es-single", "es-replica", "csdw"),
        (
            ConfigVariable("max_connections", "integer", ("10", "100000"), False),
            ConfigVariable("innodb_buffer_pool_size", "integer", ("134217728", "68719476736"), True),
            ConfigVariable("long_query_time", "float", ("0", "31536000"), False),
            ConfigVariable("sql_mode", "set", _SQL_MODES, False, _SQL_MODES),
            ConfigVariable("character_set_server", "enum", ("utf8mb4", "latin1"), True),
        ),
    ),
    Product(
        "xpand",
        "MariaDB Xpand",
        ("xpand",),
        (
            ConfigVariable("max_connections", "integer", ("10", "100000"), False),
            ConfigVariable("session_log_slow_queries", "boolean", ("true", "false"), False),
            ConfigVariable("autocommit", "boolean", ("true", "false"), False),
        ),
    ),
    Product(
        "maxscale",
        "MariaDB MaxScale",
        ("es-replica", "xpand", "csdw"),
        (
            ConfigVariable("threads", "integer", ("1", "64"), True),
            ConfigVariable("query_retries", "integer", ("0", "10"), False),
            ConfigVariable("session_trace", "integer", ("0", "1000"), False),
        ),
    ),
    Product(
        "columnstore",
        "MariaDB Enterprise ColumnStore",
        ("csdw",),
        (
            ConfigVariable("columnstore_use_import_for_batchinsert", "enum", ("ON", "OFF", "ALWAYS"), False),
            ConfigVariable("columnstore_cache_inserts", "boolean", ("true", "false"), True),
        ),
    ),
)
PRODUCT_BY_NAME = {p.name: p for p in PRODUCTS}
