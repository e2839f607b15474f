"""Channel extractors: each reads only what is new since its watermark or manifest
and hands batches to the loader."""
from datetime import date, datetime, time, timedelta, timezone


def end_of_day(as_of: date) -> datetime:
    """Exclusive upper bound of an as-of day in UTC: nothing later is extracted."""
    return datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=timezone.utc)
