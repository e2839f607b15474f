"""
### c360 activation

When the scores are fresh: build each audience defined in `audiences.yml`,
apply the contact rules (consent, opt-outs, suppressions, pauses, contact caps;
see `c360.activation.rules`), hold out a deterministic control group, and send
each destination only the changes against what it holds (adds, updates,
removes), in batches with idempotency keys. Runs and counts are in
`ops.sync_log`; who was synced or held out on each date in
`activation.audience_members`, and when each person entered each audience in
`activation.audience_entries`.

First, `quality_gate`: if any error-severity expectation of the day's mart or
score validations failed (or one did not run), the run fails here, listing
them, and no audience is synced from bad data.
"""
import pendulum
from airflow.sdk import dag, task

from c360.assets import AUDIENCES, SCORES

DEFAULT_ARGS = {"retries": 2, "retry_delay": pendulum.duration(minutes=2), "owner": "marketing-ops"}


@dag(
    dag_id="c360_activation",
    schedule=[SCORES],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["c360", "activation"],
    doc_md=__doc__,
)
def c360_activation():
    @task
    def quality_gate(**context):
        from airflow.sdk.exceptions import AirflowFailException

        from c360.access import ACTIVATION
        from c360.quality import QualityFailed, check_gate
        from c360.runtime import as_of_date
        from c360.warehouse import open_warehouse

        try:  # a retry would read the same results
            check_gate(open_warehouse(role=ACTIVATION), as_of_date(context))
        except QualityFailed as err:
            raise AirflowFailException(str(err)) from err

    @task(outlets=[AUDIENCES])
    def sync_audiences(**context):
        from c360.activation.audiences import load_definitions
        from c360.activation import sync
        from c360.config import Workspace
        from c360.runtime import announce, as_of_date
        from c360.access import ACTIVATION
        from c360.warehouse import open_warehouse

        as_of = as_of_date(context)
        workspace = Workspace.from_env()
        warehouse = open_warehouse(workspace, role=ACTIVATION)
        results = sync.sync_audiences(warehouse, workspace, load_definitions(workspace), as_of)
        announce(context, AUDIENCES, as_of)
        return {name: vars(result) for name, result in results.items()}

    quality_gate() >> sync_audiences()


c360_activation()
