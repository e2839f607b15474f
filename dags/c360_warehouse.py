"""
### c360 warehouse

Builds the customer warehouse with dbt (`dbt build`: seeds, models and their
tests) for the as-of day passed on by the ingest DAG: staging, identity
resolution, `marts.dim_customers`, `marts.customer_identity_map`,
`marts.customer_rfm`, `marts.customer_lifecycle` and the facts. A failing dbt
test fails the run, so downstream DAGs do not see bad marts.

Then Great Expectations validates the key marts inside PostgreSQL (one row per
customer, R/F/M scores 1-5, known segments and lifecycle stages; suites in
`expectations/marts_*.py`) and records the results in `ops.dq_results` for the
day; a failed error-severity expectation fails `validate_marts` with the list.
The marts asset is announced only by a passing validation, so propensity and
activation never start on bad marts (and the activation DAG's gate checks again).
"""
import pendulum
from airflow.sdk import dag, task

from c360.assets import MARTS, RAW

DEFAULT_ARGS = {"retries": 1, "retry_delay": pendulum.duration(minutes=2), "owner": "data-engineering"}


@dag(
    dag_id="c360_warehouse",
    schedule=list(RAW.values()),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["c360", "dbt"],
    doc_md=__doc__,
)
def c360_warehouse():
    @task
    def dbt_build(**context):
        from c360.config import Workspace
        from c360.runtime import as_of_date
        from c360.transform import build_warehouse
        from c360.access import TRANSFORMER
        from c360.warehouse import open_warehouse

        as_of = as_of_date(context)
        workspace = Workspace.from_env()
        build_warehouse(open_warehouse(workspace, role=TRANSFORMER), workspace, as_of)

    @task(outlets=[MARTS])
    def validate_marts(**context):
        from airflow.sdk.exceptions import AirflowFailException

        from c360.access import TRANSFORMER
        from c360.quality import WAREHOUSE_SUITES, QualityFailed, validate_or_fail
        from c360.runtime import announce, as_of_date
        from c360.warehouse import open_warehouse

        as_of = as_of_date(context)
        try:  # a retry would find the same marts
            results = validate_or_fail(open_warehouse(role=TRANSFORMER), as_of, WAREHOUSE_SUITES)
        except QualityFailed as err:
            raise AirflowFailException(str(err)) from err
        announce(context, MARTS, as_of)
        return results

    dbt_build() >> validate_marts()


c360_warehouse()
