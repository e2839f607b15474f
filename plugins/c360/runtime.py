"""What a task needs from its Airflow context: the as-of date it works for."""
from __future__ import annotations

from datetime import date, timedelta

AS_OF_KEY = "as_of"


def as_of_date(context) -> date:
    """The day a run is about, in order of precedence:

    1. ``as_of`` in the run's conf (``c360 run --as-of``, a manual trigger);
    2. ``as_of`` in the extra of the asset event that triggered the run
       (each stage passes its date downstream);
    3. the start of the run's data interval (scheduled ingest runs);
    4. the day before the run was queued (an asset run with no date).
    """
    conf = (context.get("dag_run") and context["dag_run"].conf) or {}
    if conf.get(AS_OF_KEY):
        return date.fromisoformat(str(conf[AS_OF_KEY]))
    events = context.get("triggering_asset_events") or {}
    for asset_events in events.values():
        for event in reversed(asset_events):
            if (event.extra or {}).get(AS_OF_KEY):
                return date.fromisoformat(event.extra[AS_OF_KEY])
    interval_start = context.get("data_interval_start")
    if interval_start is not None:
        return interval_start.date()
    return context["dag_run"].run_after.date() - timedelta(days=1)


def announce(context, asset, as_of: date, **extra) -> None:
    """Tell downstream DAGs which day this asset update is for."""
    context["outlet_events"][asset].extra = {AS_OF_KEY: as_of.isoformat(), **extra}
