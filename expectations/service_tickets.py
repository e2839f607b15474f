"""raw.service_tickets: tickets as the service desk exports them when opened or closed."""
import great_expectations.expectations as gxe

from expectations.common import BatchWindow, key_expectations, timestamps_in_window

TABLE = "service_tickets"
CATEGORIES = ["delivery", "return", "product", "account", "billing", "complaint", "other"]


def build(window: BatchWindow) -> list:
    return [
        *key_expectations(TABLE),
        gxe.ExpectColumnValuesToBeInSet(column="category", value_set=CATEGORIES),
        gxe.ExpectColumnValuesToBeBetween(column="satisfaction_score", min_value=1, max_value=5),
        *timestamps_in_window(["opened_at", "closed_at", "updated_at"], window),
    ]
