"""marts.dim_customers: one row per person, each with a key; never empty (an
audience built from an empty warehouse would remove everyone)."""
import great_expectations.expectations as gxe

from expectations.common import key_columns

TABLE = "marts.dim_customers"


def build(as_of) -> list:
    return [gxe.ExpectTableRowCountToBeBetween(min_value=1), *key_columns("customer_key")]
