"""raw.social_followers: follower profiles from the social platform's API."""
import great_expectations.expectations as gxe

from expectations.common import BatchWindow, key_expectations, timestamps_in_window

TABLE = "social_followers"


def build(window: BatchWindow) -> list:
    return [
        *key_expectations(TABLE),
        gxe.ExpectColumnValuesToBeBetween(column="follower_count", min_value=0, max_value=1_000_000_000),
        *timestamps_in_window(["updated_at"], window),
    ]
