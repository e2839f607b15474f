"""
### c360 ingest

Extracts each channel incrementally for the run's day (its data interval),
validates every batch with Great Expectations and publishes it to `raw`, or
quarantines the bad rows with their reasons (`ops.quarantine`). Each batch's
counts are in `ops.batches`: extracted = loaded + quarantined.

A simulated workspace first lets the simulated brand live through the day.
Each channel (and the user's imported files, `c360 import-transactions`) is its
own task, so one source being down does not stop the others; a channel the
workspace does not have succeeds with nothing to do. A rejected batch or a bad
imported file fails its task at once (a retry would read the same data); the
warehouse DAG waits until every `raw` asset is fresh.
"""
import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, task

from c360.assets import RAW

DEFAULT_ARGS = {"retries": 2, "retry_delay": pendulum.duration(minutes=2), "owner": "data-engineering"}


@dag(
    dag_id="c360_ingest",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["c360", "ingest"],
    doc_md=__doc__,
)
def c360_ingest():
    @task
    def advance_simulated_sources(**context):
        from c360.config import Workspace
        from c360.runtime import as_of_date
        from c360.sources import advance_simulation, is_simulated
        from c360.warehouse import open_warehouse

        workspace = Workspace.from_env()
        if is_simulated(workspace):
            advance_simulation(workspace, open_warehouse(workspace), as_of_date(context))

    def ingest_task(channel: str):
        @task(task_id=f"ingest_{channel}", outlets=[RAW[channel]])
        def ingest(**context):
            from airflow.sdk.exceptions import AirflowFailException

            from c360.imports import TransactionsFileError
            from c360.ingest import ingest_channel, summarize
            from c360.loader import BatchRejected
            from c360.runtime import announce, as_of_date

            as_of = as_of_date(context)
            try:
                summary = summarize(ingest_channel(channel, as_of))
            except (BatchRejected, TransactionsFileError) as err:
                raise AirflowFailException(str(err)) from err
            announce(context, RAW[channel], as_of, **summary)
            return summary

        return ingest()

    advance_simulated_sources() >> [ingest_task(channel) for channel in RAW]


c360_ingest()
