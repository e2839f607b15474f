"""ml.propensity_scores of the day: scores in [0, 1], deciles 1-10, every row a customer's.
A day nobody was scored for (no champion yet) is valid: there is nothing to sync."""
from datetime import date

import great_expectations.expectations as gxe

TABLE = "ml.propensity_scores"
DATE_COLUMN = "scored_for_date"  # scores are kept per day: validate the day's


def build(as_of: date) -> list:
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="customer_key"),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["model_name", "customer_key"]),
        gxe.ExpectColumnValuesToBeBetween(column="score", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="score_decile", min_value=1, max_value=10),
    ]
