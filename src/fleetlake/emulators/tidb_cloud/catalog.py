"""Fixed reference data of the TiDB Cloud emulator: regions, node specs, service paths, name pools."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """A cloud region as the v1beta1 APIs name it (`aws-us-east-1`)."""

    provider: str
    """Lower-case provider as v1beta1 spells it: aws, gcp."""
    code: str
    """The provider's own region code: us-east-1, us-central1."""
    display_name: str
    zones: tuple[str, ...]

    @property
    def region_id(self) -> str:
        """`{provider}-{code}`, for example `aws-us-east-1`."""
        return f"{self.provider}-{self.code}"


def _aws(code: str, city: str, zone_ids: str = "abc") -> Region:
    return Region("aws", code, f"{city} ({code})", tuple(code + z for z in zone_ids))


def _gcp(code: str, city: str) -> Region:
    return Region("gcp", code, f"{city} ({code})", tuple(f"{code}-{z}" for z in "abc"))


DEDICATED_REGIONS: tuple[Region, ...] = (
    _aws("us-east-1", "N. Virginia"),
    _aws("us-west-2", "Oregon"),
    _aws("eu-central-1", "Frankfurt"),
    _aws("ap-southeast-1", "Singapore"),
    _gcp("us-central1", "Iowa"),
    _gcp("asia-southeast1", "Singapore"),
)
SERVERLESS_REGIONS: tuple[Region, ...] = (
    _aws("us-east-1", "N. Virginia"),
    _aws("us-west-2", "Oregon"),
    _aws("eu-central-1", "Frankfurt"),
    _aws("ap-southeast-1", "Singapore"),
    _aws("ap-northeast-1", "Tokyo", "acd"),
)


@dataclass(frozen=True)
class NodeSpec:
    """A node size offered for one component, like TiKV 8C32G."""

    component: str
    """TIDB, TIKV, TIFLASH or PD."""
    key: str
    vcpu: int
    memory_gi: int

    @property
    def display_name(self) -> str:
        """`8 vCPU, 32 GiB`."""
        return f"{self.vcpu} vCPU, {self.memory_gi} GiB"


def _specs(component: str, *keys: str) -> tuple[NodeSpec, ...]:
    out = []
    for key in keys:
        cpu, mem = key.rstrip("G").split("C")
        out.append(NodeSpec(component, key, int(cpu), int(mem)))
    return tuple(out)


NODE_SPECS: tuple[NodeSpec, ...] = (
    *_specs("TIDB", "4C16G", "8C16G", "8C32G", "16C32G", "16C64G", "32C64G"),
    *_specs("TIKV", "4C16G", "8C32G", "8C64G", "16C64G", "32C128G"),
    *_specs("TIFLASH", "8C64G", "16C128G", "32C256G"),
    *_specs("PD", "4C8G", "8C16G"),
)
DEFAULT_SPEC = {"TIDB": "8C16G", "TIKV": "8C32G", "TIFLASH": "8C64G", "PD": "4C8G"}
STORAGE_RANGE = {"TIKV": (200, 500, 4096), "TIFLASH": (200, 500, 2048)}
"""(minimum, default, maximum) storage per node in GiB for the components that have storage."""
DEFAULT_NODE_COUNT = {"TIDB": 2, "TIKV": 3, "TIFLASH": 0, "PD": 3}


def specs_of(component: str) -> tuple[NodeSpec, ...]:
    """The node specs offered for a component, smallest first."""
    return tuple(s for s in NODE_SPECS if s.component == component)


DEDICATED_PRODUCT = "TiDB Dedicated"
STARTER_PRODUCT = "TiDB Cloud Starter"
ESSENTIAL_PRODUCT = "TiDB Cloud Essential"


@dataclass(frozen=True)
class ServicePath:
    """A billing line: product, category and component (TiDB Dedicated - Node Compute - TiDB)."""

    product: str
    category: str
    component: str

    @property
    def name(self) -> str:
        """`TiDB Dedicated - Node Compute - TiDB`."""
        parts = [self.product, self.category] + ([self.component] if self.component else [])
        return " - ".join(parts)


DEDICATED_PATHS: tuple[ServicePath, ...] = (
    ServicePath(DEDICATED_PRODUCT, "Node Compute", "TiDB"),
    ServicePath(DEDICATED_PRODUCT, "Node Compute", "TiKV"),
    ServicePath(DEDICATED_PRODUCT, "Node Storage", "TiKV"),
    ServicePath(DEDICATED_PRODUCT, "Backup Storage", ""),
    ServicePath(DEDICATED_PRODUCT, "Data Transfer", "Internet"),
)
TIFLASH_PATHS: tuple[ServicePath, ...] = (
    ServicePath(DEDICATED_PRODUCT, "Node Compute", "TiFlash"),
    ServicePath(DEDICATED_PRODUCT, "Node Storage", "TiFlash"),
)
STARTER_PATHS: tuple[ServicePath, ...] = (
    ServicePath(STARTER_PRODUCT, "Request Units", ""),
    ServicePath(STARTER_PRODUCT, "Row-based Storage", ""),
)
ESSENTIAL_PATHS: tuple[ServicePath, ...] = (
    ServicePath(ESSENTIAL_PRODUCT, "Request Capacity Units", ""),
    ServicePath(ESSENTIAL_PRODUCT, "Row-based Storage", ""),
)
ALL_PATHS: tuple[ServicePath, ...] = DEDICATED_PATHS + TIFLASH_PATHS + STARTER_PATHS + ESSENTIAL_PATHS

PROJECT_NAMES = (
    "default_project",
    "Production",
    "Data Platform",
    "Staging",
    "Analytics",
    "Payments",
    "Mobile Backend",
    "Sandbox",
    "Growth",
    "Internal Tools",
)
ENVIRONMENTS = ("prod", "staging", "dev", "analytics", "qa")
DOMAINS = (
    "orders",
    "payments",
    "inventory",
    "events",
    "users",
    "billing",
    "search",
    "metrics",
    "ledger",
    "catalog",
    "sessions",
    "shipping",
)
FIRST_NAMES = (
    "Alice",
    "Bruno",
    "Chen",
    "Dana",
    "Emeka",
    "Fatima",
    "Gustav",
    "Hana",
    "Ivan",
    "Julia",
    "Kenji",
    "Lucia",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Samir",
    "Tomoko",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
)
LAST_NAMES = (
    "Anders",
    "Becker",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hoffmann",
    "Ito",
    "Jensen",
    "Kowalski",
    "Li",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Wang",
    "Yilmaz",
    "Zhang",
    "Silva",
    "Novak",
)
ORG_NAMES = ("Northwind Analytics", "Acme Logistics", "Bluefin Payments", "Contoso Retail", "Globex Data")
ORG_DOMAINS = ("northwind.io", "acme-logistics.com", "bluefin.dev", "contoso-retail.com", "globex.co")

CLUSTER_EVENTS = frozenset(
    {
        "CreateCluster",
        "UpdateCluster",
        "PauseCluster",
        "ResumeCluster",
        "DeleteCluster",
        "CreateBackup",
        "RestoreBackup",
        "UpdateIPAccessList",
    }
)
LOGIN_METHODS = ("google-oauth2", "github", "password", "microsoft")
