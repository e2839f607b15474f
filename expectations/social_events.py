"""raw.social_events: follows, likes, comments, shares and reads."""
import great_expectations.expectations as gxe

from expectations.common import BatchWindow, key_expectations, timestamps_in_window

TABLE = "social_events"
EVENT_TYPES = ["follow", "unfollow", "like", "comment", "share", "read"]


def build(window: BatchWindow) -> list:
    return [
        *key_expectations(TABLE),
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=EVENT_TYPES),
        # a read longer than a day is a tracking error
        gxe.ExpectColumnValuesToBeBetween(column="seconds_read", min_value=0, max_value=86_400),
        *timestamps_in_window(["occurred_at"], window),
    ]
