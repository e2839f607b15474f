"""The closed loop on a simulated brand: c360 syncs an audience (half held out),
the simulated marketing tool e-mails the synced half the next morning with a
real effect on their purchases, its campaign events come back through the
campaigns channel, and marts.audience_uplift measures the synced group against
the holdout."""
from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from c360.access import ACTIVATION
from c360.activation.audiences import parse_audience
from c360.activation.rules import ContactRules
from c360.activation.sync import sync_audience
from c360.bench import build_simulated_warehouse, throwaway_workspace
from c360.ingest import ingest_channel
from c360.simulator.campaigns import AUDIENCE_LIFT
from c360.sources import CHANNELS, advance_simulation
from c360.transform import build_warehouse
from conftest import query

SYNC_DAY = date(2026, 5, 31)
MEASURED_ON = SYNC_DAY + timedelta(days=10)
CUSTOMERS, DAYS, SEED = 8000, 90, 3  # about 1,300 reachable: enough to see a real effect
AUDIENCE = parse_audience({"name": "everyone_reachable", "where": {}, "holdout_percent": 50})


@pytest.fixture(scope="module")
def loop():
    with throwaway_workspace() as (workspace, warehouse):
        build_simulated_warehouse(workspace, warehouse, CUSTOMERS, DAYS, SEED, SYNC_DAY)
        synced = sync_audience(warehouse.as_role(ACTIVATION), workspace, AUDIENCE, SYNC_DAY, ContactRules())
        advance_simulation(workspace, warehouse, MEASURED_ON)
        for channel in CHANNELS:
            ingest_channel(channel, MEASURED_ON, workspace)
        build_warehouse(warehouse, workspace, MEASURED_ON)
        yield warehouse, synced


def uplift_row(warehouse) -> dict:
    columns = ["window_closed", "synced_customers", "holdout_customers", "synced_order_rate", "holdout_order_rate",
               "uplift", "uplift_ci_low", "uplift_ci_high", "synced_order_rate_before", "holdout_order_rate_before"]
    (row,) = query(warehouse, f"select {', '.join(columns)} from marts.audience_uplift"
                              " where audience = %s and entered_on = %s", (AUDIENCE.name, SYNC_DAY))
    return {c: float(v) if not isinstance(v, bool) else v for c, v in zip(columns, row)}


def test_the_tools_sends_come_back_through_the_campaigns_channel_to_the_synced_only(loop):
    warehouse, synced = loop
    touched = {k for k, in query(warehouse, "select customer_key from marts.fct_campaign_touches"
                                            " where campaign_id like 'AUD%%' and not is_holdout")}
    groups = dict(query(warehouse, "select is_holdout, array_agg(customer_key) from activation.audience_members"
                                   " where audience = %s group by is_holdout", (AUDIENCE.name,)))
    sent, held_out = set(groups[False]), set(groups[True])
    print(f"audience e-mails back through the campaigns channel: {len(touched)} customers; {len(touched & sent)} of"
          f" {len(sent)} synced, {len(touched & held_out)} of {len(held_out)} held out, {len(touched - sent - held_out)}"
          " neither (a contact the warehouse resolved to another key of the same person)")
    assert len(touched & sent) > 0.5 * len(sent)
    assert len(touched & held_out) <= 0.01 * len(held_out)


def test_the_synced_group_shows_the_uplift_the_simulator_gave_it(loop):
    warehouse, synced = loop
    row = uplift_row(warehouse)
    print(f"audience_uplift on the simulated brand (true lift {AUDIENCE_LIFT:+.0%} on responsive recipients): {row}")
    assert row["window_closed"]
    assert (row["synced_customers"], row["holdout_customers"]) == (synced.in_audience - synced.holdout, synced.holdout)
    assert row["uplift"] == pytest.approx(row["synced_order_rate"] - row["holdout_order_rate"], abs=1e-4)
    assert row["uplift"] > 0 and row["uplift_ci_low"] > 0


def test_the_holdout_matched_the_synced_group_before_the_sync(loop):
    """A random split: before entry the two groups ordered alike (no bias to flatter the uplift)."""
    warehouse, _ = loop
    row = uplift_row(warehouse)
    a, b = row["synced_order_rate_before"], row["holdout_order_rate_before"]
    margin = 1.96 * math.sqrt(a * (1 - a) / row["synced_customers"] + b * (1 - b) / row["holdout_customers"])
    assert abs(a - b) < margin
