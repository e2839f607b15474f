"""marts.customer_lifecycle: one row per person for the day, in a known stage."""
from datetime import date

import great_expectations.expectations as gxe

from expectations.common import key_columns

TABLE = "marts.customer_lifecycle"
STAGES = ["prospect", "new", "active", "loyal", "at_risk", "churned", "reactivated"]


def build(as_of: date) -> list:
    return [
        *key_columns("customer_key"),
        gxe.ExpectColumnValuesToNotBeNull(column="lifecycle_stage"),
        gxe.ExpectColumnValuesToBeInSet(column="lifecycle_stage", value_set=STAGES),
        gxe.ExpectColumnValuesToBeInSet(column="as_of_date", value_set=[as_of.isoformat()]),
    ]
