"""raw.imported_transactions: transactions from a user's own file."""
import great_expectations.expectations as gxe

from expectations.common import BatchWindow, key_expectations, timestamps_in_window

TABLE = "imported_transactions"


def build(window: BatchWindow) -> list:
    return [
        *key_expectations(TABLE),
        gxe.ExpectColumnValuesToBeUnique(column="transaction_id"),
        gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=-10_000_000, max_value=10_000_000),
        *timestamps_in_window(["ordered_at"], window),
    ]
