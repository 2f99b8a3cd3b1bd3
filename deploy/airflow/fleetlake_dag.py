"""fleetlake on Airflow: one dlt `PipelineTasksGroup` per API and account, each loading its pipeline.

Copy this file into the `dags` folder of an Airflow that has fleetlake installed (`pip install fleetlake`
or this repository), and put the keys where dlt finds them on the workers: `.dlt/secrets.toml` in the
dags folder (dlt's Airflow helper makes it the project folder) or environment variables such as
`SOURCES__TIDB_INSTANCE_SOURCE__PUBLIC_KEY`. Set the destination the same way (`FLEETLAKE_DESTINATION`,
default postgres, with `DESTINATION__POSTGRES__CREDENTIALS`).

Each API, or each of its accounts where the API names them (`accounts = [...]`, see the README), is its
own task group, so a large fleet loads side by side on as many workers as the executor has;
an API's task fails on the first resource that fails (Airflow's retries then run it again), since the
task runs dlt's pipeline directly, not fleetlake's runner. The source is built when its task runs, not
when the scheduler parses this file, so parsing needs no keys and makes no request. When every group
has run (whatever each came to), the `fleet_model` task rebuilds the `fleet` dataset from what the
destination holds, as `fleetlake run` does after its loads.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import dlt
import pendulum
from airflow.decorators import dag, task
from dlt.helpers.airflow_helper import PipelineTasksGroup

from fleetlake.accounts import Account, account_names, configured_accounts, tag_rows
from fleetlake.sources import BUNDLED, ApiContract

DESTINATION = os.environ.get("FLEETLAKE_DESTINATION", "postgres")


@dag(
    dag_id="fleetlake",
    schedule="17 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": pendulum.duration(minutes=5)},
    tags=["fleetlake", "dlt"],
)
def fleetlake() -> None:
    groups = []
    for api in BUNDLED:
        # the accounts' names only: their keys are read when each task runs, never kept in the DAG
        for account in account_names(api) or [None]:
            name = Account(account).pipeline_name(api) if account else api.pipeline_name
            tasks = PipelineTasksGroup(name, use_data_folder=False, wipe_local_data=True)
            pipeline = dlt.pipeline(pipeline_name=name, dataset_name=api.dataset_name, destination=DESTINATION)
            # a callable: the source is built (and its settings resolved) when the task runs
            tasks.add_run(pipeline, _source(api, account), decompose="none", trigger_rule="all_done")
            groups.append(tasks)
    groups >> fleet_model()


@task(trigger_rule="all_done")
def fleet_model() -> dict[str, int]:
    """The fleet model, rebuilt from every API's last complete load in the destination."""
    from fleetlake.pipelines import build_model

    report = build_model(DESTINATION, duckdb_path=None)
    return dict(report.row_counts)


def _source(api: ApiContract, account: str | None) -> Callable[[], Any]:
    def build() -> Any:
        if account is None:
            return api.make_source()
        found: Account = next(a for a in configured_accounts(api) or [] if a.name == account)
        return tag_rows(api.make_source(**found.settings), found, api)

    return build


fleetlake()
