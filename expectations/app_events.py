"""raw.app_events: sessions, logins, product views and cart adds from the app's exports."""
import great_expectations.expectations as gxe

from expectations.common import WARN, BatchWindow, key_expectations, timestamps_in_window

TABLE = "app_events"
EVENT_TYPES = ["session_start", "login", "product_view", "cart_add"]


def build(window: BatchWindow) -> list:
    return [
        *key_expectations(TABLE),
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=EVENT_TYPES),
        # a new platform is worth a look, not a lost event
        gxe.ExpectColumnValuesToBeInSet(column="platform", value_set=["ios", "android"], meta=WARN),
        *timestamps_in_window(["occurred_at"], window),
    ]
