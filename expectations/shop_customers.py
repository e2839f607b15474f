"""raw.shop_customers: accounts in the web shop's database."""
import great_expectations.expectations as gxe

from expectations.common import WARN, BatchWindow, key_expectations, timestamps_in_window

TABLE = "shop_customers"


def build(window: BatchWindow) -> list:
    return [
        *key_expectations(TABLE),
        *timestamps_in_window(["created_at", "updated_at"], window),
        # contact details are cleaned in staging; a malformed one is worth a warning, not a lost customer
        gxe.ExpectColumnValuesToMatchRegex(column="email", regex=r"@", meta=WARN),
    ]
