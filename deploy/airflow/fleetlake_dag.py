"""fleetlake on Airflow: one dlt `PipelineTasksGroup` per API, each loading its seed pipeline and dataset.

Copy this file into the `dags` folder of an Airflow that has fleetlake installed (`pip install fleetlake`
or this repository), and put the keys where dlt finds them on the workers: `.dlt/secrets.toml` in the
dags folder (dlt's Airflow helper makes it the project folder) or environment variables such as
`SOURCES__TIDB_INSTANCE_SOURCE__PUBLIC_KEY`. Set the destination the same way (`FLEETLAKE_DESTINATION`,
default postgres, with `DESTINATION__POSTGRES__CREDENTIALS`).

Each API is its own task group, so the APIs load side by side on as many workers as the executor has;
an API's task fails on the first resource that fails (Airflow's retries then run it again), since the
task runs dlt's pipeline directly, not fleetlake's runner. The source is built when its task runs, not
when the scheduler parses this file, so parsing needs no keys and makes no request.
"""

from __future__ import annotations

import os

import dlt
import pendulum
from airflow.decorators import dag
from dlt.helpers.airflow_helper import PipelineTasksGroup

from fleetlake.sources import BUNDLED

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
    for api in BUNDLED:
        tasks = PipelineTasksGroup(api.pipeline_name, use_data_folder=False, wipe_local_data=True)
        pipeline = dlt.pipeline(pipeline_name=api.pipeline_name, dataset_name=api.dataset_name, destination=DESTINATION)
        # a callable: the source is built (and its settings resolved) when the task runs
        tasks.add_run(pipeline, api.make_source, decompose="none", trigger_rule="all_done")


fleetlake()
