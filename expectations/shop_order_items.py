"""raw.shop_order_items: the lines of each web-shop order."""
import great_expectations.expectations as gxe

from expectations.common import BatchWindow, key_expectations, timestamps_in_window

TABLE = "shop_order_items"


def build(window: BatchWindow) -> list:
    return [
        *key_expectations(TABLE),
        gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=1, max_value=1_000),
        gxe.ExpectColumnValuesToBeBetween(column="unit_price", min_value=0, max_value=100_000),
        *timestamps_in_window(["updated_at"], window),
    ]
