"""
### c360 propensity

When the marts are fresh: retrain the purchase-in-30-days model if a week has
passed since the champion was trained (fit on one as-of date, validated out of
time on a later one, promoted only if it beats the recency and RFM baselines;
see `ml.model_registry`), then score every customer into
`ml.propensity_scores` for the day. Re-scoring a day replaces its scores.
"""
import pendulum
from airflow.sdk import dag, task

from c360.assets import MARTS, SCORES

DEFAULT_ARGS = {"retries": 1, "retry_delay": pendulum.duration(minutes=2), "owner": "data-science"}


@dag(
    dag_id="c360_propensity",
    schedule=[MARTS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["c360", "ml"],
    doc_md=__doc__,
)
def c360_propensity():
    @task
    def retrain_if_due(**context):
        from c360.access import ML
        from c360.config import Workspace
        from c360.runtime import as_of_date
        from c360.warehouse import open_warehouse
        from ml.train import train_if_due

        workspace = Workspace.from_env()
        return train_if_due(open_warehouse(workspace, role=ML), workspace, as_of_date(context))

    @task(outlets=[SCORES])
    def score_customers(**context):
        from c360.access import ML
        from c360.config import Workspace
        from c360.runtime import announce, as_of_date
        from c360.warehouse import open_warehouse
        from ml.score import score
        from ml.train import MODEL_NAME

        as_of = as_of_date(context)
        workspace = Workspace.from_env()
        scored = score(open_warehouse(workspace, role=ML), workspace, as_of, MODEL_NAME)
        announce(context, SCORES, as_of, scored=scored)
        return scored

    retrain_if_due() >> score_customers()


c360_propensity()
