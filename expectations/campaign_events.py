"""raw.campaign_events: holdouts, sends, deliveries, opens, clicks, unsubscribes and
conversions from the e-mail/SMS tool's exports."""
import great_expectations.expectations as gxe

from expectations.common import BatchWindow, key_expectations, timestamps_in_window

TABLE = "campaign_events"
EVENT_TYPES = ["holdout", "send", "delivery", "open", "click", "unsubscribe", "conversion"]


def build(window: BatchWindow) -> list:
    return [
        *key_expectations(TABLE),
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=EVENT_TYPES),
        gxe.ExpectColumnValuesToBeInSet(column="channel", value_set=["email", "sms"]),
        gxe.ExpectColumnValuesToBeBetween(column="cost_per_send", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="conversion_amount", min_value=0, max_value=100_000),
        *timestamps_in_window(["occurred_at"], window),
    ]
