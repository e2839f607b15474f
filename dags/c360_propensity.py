"""
### c360 propensity

When the marts are fresh, for each model (`purchase_30d`: a purchase in the
next 30 days; `churn_90d`: no purchase in the next 90 days among recent buyers;
horizons from `C360_PURCHASE_HORIZON_DAYS` and `C360_CHURN_HORIZON_DAYS`):

- **retrain** weekly: features as of past dates (point-in-time), fit on one
  date's customers and validated out of time on a later one, next to the RFM
  and recency baselines. It becomes champion only if it beats the best baseline
  and the current champion; otherwise it is kept as challenger
  (`ml.model_registry`, artifacts under the workspace's `models/`).
- **score** daily: every customer (for churn, every recent buyer) with the
  champion into `ml.propensity_scores`; re-scoring a day replaces its scores.
  The scores' PSI against training is in `ml.scoring_runs` and warns in the log.
- **validate** the day's scores with Great Expectations (score in [0, 1],
  deciles 1-10, one per customer and model; `expectations/ml_propensity_scores.py`),
  results in `ops.dq_results`; the activation DAG's gate reads them.
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
    def retrain_if_due(kind: str, **context):
        from c360.access import ML
        from c360.config import Workspace
        from c360.runtime import as_of_date
        from c360.warehouse import open_warehouse
        from ml.targets import target
        from ml.train import train_if_due

        workspace = Workspace.from_env()
        return train_if_due(open_warehouse(workspace, role=ML), workspace, as_of_date(context), target(kind))

    @task(outlets=[SCORES])
    def score_customers(**context):
        from c360.access import ML
        from c360.config import Workspace
        from c360.runtime import announce, as_of_date
        from c360.warehouse import open_warehouse
        from ml.score import score
        from ml.targets import targets

        as_of = as_of_date(context)
        workspace = Workspace.from_env()
        runs = score(open_warehouse(workspace, role=ML), workspace, as_of, targets())
        scored = {run.model_name: run.customers for run in runs}
        announce(context, SCORES, as_of, **scored)
        return scored

    @task
    def validate_scores(**context):
        from airflow.sdk.exceptions import AirflowFailException

        from c360.access import ML
        from c360.quality import SCORE_SUITES, QualityFailed, validate_or_fail
        from c360.runtime import as_of_date
        from c360.warehouse import open_warehouse

        try:  # a retry would find the same scores
            return validate_or_fail(open_warehouse(role=ML), as_of_date(context), SCORE_SUITES)
        except QualityFailed as err:
            raise AirflowFailException(str(err)) from err

    retrain_if_due.expand(kind=["purchase", "churn"]) >> score_customers() >> validate_scores()


c360_propensity()
