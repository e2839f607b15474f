"""raw.shop_orders: orders and their status changes from the web shop."""
import great_expectations.expectations as gxe

from expectations.common import BatchWindow, key_expectations, timestamps_in_window

TABLE = "shop_orders"
STATUSES = ["paid", "shipped", "cancelled", "refunded"]


def build(window: BatchWindow) -> list:
    return [
        *key_expectations(TABLE),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=STATUSES),
        gxe.ExpectColumnValuesToBeBetween(column="total_amount", min_value=0, max_value=100_000),
        *timestamps_in_window(["ordered_at", "updated_at"], window),
    ]
