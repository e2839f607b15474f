"""raw.pos_receipts: store receipts from the daily POS file drops."""
import great_expectations.expectations as gxe

from expectations.common import BatchWindow, key_expectations, timestamps_in_window

TABLE = "pos_receipts"


def build(window: BatchWindow) -> list:
    return [
        *key_expectations(TABLE),
        gxe.ExpectColumnValuesToBeInSet(column="transaction_type", value_set=["sale", "return"]),
        gxe.ExpectColumnValuesToBeBetween(column="total_amount", min_value=0, max_value=100_000),
        *timestamps_in_window(["purchased_at"], window),
    ]
