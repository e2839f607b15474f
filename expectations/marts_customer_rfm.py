"""marts.customer_rfm: one row per buyer for the day, R, F and M scores 1-5, known segments."""
import csv
from datetime import date

import great_expectations.expectations as gxe

from c360.config import PROJECT_ROOT
from expectations.common import key_columns

TABLE = "marts.customer_rfm"
SEGMENT_MAP = PROJECT_ROOT / "dbt_project" / "seeds" / "rfm_segment_map.csv"


def segments() -> list[str]:
    """The segments of the grid dbt uses (a user may edit its seed)."""
    with SEGMENT_MAP.open(newline="") as f:
        return sorted({row["rfm_segment"] for row in csv.DictReader(f)})


def build(as_of: date) -> list:
    return [
        *key_columns("customer_key"),
        *(gxe.ExpectColumnValuesToBeBetween(column=score, min_value=1, max_value=5)
          for score in ("r_score", "f_score", "m_score")),
        gxe.ExpectColumnValuesToNotBeNull(column="rfm_segment"),
        gxe.ExpectColumnValuesToBeInSet(column="rfm_segment", value_set=segments()),
        gxe.ExpectColumnValuesToBeInSet(column="as_of_date", value_set=[as_of.isoformat()]),
    ]
