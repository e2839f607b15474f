"""How well a ranking finds the people who will buy, judged against the
simulator's truth rather than one draw of who happened to buy.

The simulator knows each person's expected purchases in the 30 days after its
last simulated day (``truth/people.csv``), so their true chance to buy is
``1 - exp(-expected)``. A ranking's expected ROC AUC over that chance weighs
each customer as a positive by p and as a negative by 1 - p: the AUC it would
score on average over every possible future, free of the noise of one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from c360.identity_quality import true_owners
from c360.simulator import read_truth
from c360.warehouse import Warehouse

BUYING_SOURCES = ("shop", "pos")  # the simulator's records that carry orders


def true_purchase_probability(warehouse: Warehouse, state_dir: Path) -> pd.Series:
    """Each person's true 30-day purchase probability on the last simulated day, by
    customer_key. A key holding records of two people is left out, and a person split
    over keys (a follower who never gave a phone) counts once, on the key holding most
    of their buying records (shop accounts, till ids), then most records."""
    truth = read_truth(state_dir)
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("select customer_key, source, source_customer_id from marts.customer_identity_map")
        keys = pd.DataFrame(cur.fetchall(), columns=["customer_key", "source", "source_customer_id"])
    owned = keys.merge(true_owners(truth), on=["source", "source_customer_id"])
    owned["buying"] = owned["source"].isin(BUYING_SOURCES)
    owners = owned.groupby("customer_key").agg(people=("person_id", "nunique"), person=("person_id", "first"),
                                               buying=("buying", "sum"), records=("buying", "size"))
    owners = owners[owners["people"] == 1].sort_values(["buying", "records"], ascending=False, kind="stable")
    person = owners[~owners["person"].duplicated()]["person"]
    expected = truth.set_index("person_id")["expected_purchases_30d"]
    return (1 - np.exp(-person.map(expected))).rename("true_probability")


def expected_auc(true_probability, score) -> float:
    """ROC AUC of ``score`` against labels drawn from ``true_probability`` (aligned, one
    entry per customer), in expectation."""
    p, s = np.asarray(true_probability, dtype=float), np.asarray(score, dtype=float)
    return float(roc_auc_score(np.r_[np.ones(len(p)), np.zeros(len(p))], np.r_[s, s], sample_weight=np.r_[p, 1 - p]))
