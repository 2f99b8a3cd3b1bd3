"""The Widgets API's settings: its names, its one endpoint, its page size."""

from __future__ import annotations

from fleetlake.sources.lists import Endpoint

TITLE = "Widgets"
SECTION = "widgets_source"
PIPELINE_NAME = "widgets_pipeline"
DATASET_NAME = "widgets_data"
BASE_URL = "https://api.widgets.example"
PAGE_SIZE = 10

ENDPOINTS = (
    Endpoint(
        "widgets", "base_url", "v1/widgets", ("widgets",), "token", ("id",),
        "Every widget: name, color, weight and when it was made.",
        timestamps=("createdAt",), total="totalSize",
    ),
)  # fmt: skip


def resource_descriptions() -> dict[str, str]:
    return {endpoint.name: endpoint.description for endpoint in ENDPOINTS}
