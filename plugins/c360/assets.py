"""The Airflow Assets that link the DAGs: each stage runs when its inputs are fresh."""
from airflow.sdk import Asset

RAW = {channel: Asset(f"c360://warehouse/raw/{channel}")
       for channel in ("shop", "pos", "social", "app", "campaigns", "service", "imports")}
MARTS = Asset("c360://warehouse/marts")
SCORES = Asset("c360://warehouse/ml/propensity_scores")
AUDIENCES = Asset("c360://warehouse/activation/audiences")
