"""How well identity resolution found the simulator's true people.

Every source record whose true owner is known (a shop account, a member card,
a social, app, campaign or service contact, a phone only one person has) is a point; two records are a
true pair when one person owns both and a predicted pair when they share a
customer_key. Precision is the share of predicted pairs that are true (merges
that should not have happened lower it); recall is the share of true pairs
that were predicted (merges missed lower it). Some true pairs share no
identifier at all (a follower who never bound a phone): no resolver can find
them, so recall is also given over the linkable pairs, those of one person's
records joined by a chain of shared identifiers in the data.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from c360.simulator import read_truth


@dataclass(frozen=True)
class IdentityQuality:
    precision: float
    recall: float
    linkable_recall: float
    records: int  # source records scored
    people: int  # true people they belong to

    def __str__(self) -> str:
        return (f"precision {self.precision:.3f}, recall {self.recall:.3f} ({self.linkable_recall:.3f} of the"
                f" pairs the data links) over {self.records} source records of {self.people} people")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def true_owners(truth: pd.DataFrame) -> pd.DataFrame:
    """(source, source_customer_id, person_id) for every record whose owner is certain.
    Candidates only: records that never appeared in the data are simply not matched."""
    person = truth["person_id"]
    shop = truth[["person_id", "customer_ids"]].explode("customer_ids").dropna()
    one_owner = truth.groupby("phone_e164")["person_id"].transform("size") == 1  # not a family phone
    phone_ids = "phone:" + truth.loc[one_owner, "phone_e164"].map(_sha256)
    email_ids = "email:" + truth["email"].map(_sha256)
    rows = [
        *(("shop", str(i), p) for p, i in zip(shop["person_id"], shop["customer_ids"])),
        *(("app", f"customer:{i}", p) for p, i in zip(shop["person_id"], shop["customer_ids"])),
        *(("pos", f"card:{c}", p) for p, c in zip(person, truth["member_card_no"]) if c),
        *(("pos", i, p) for p, i in zip(person[one_owner], phone_ids)),
        *(("social", o, p) for p, o in zip(person, truth["openid"]) if o),
        *(("app", i, p) for p, i in zip(person, email_ids)),
        *(("campaigns", c, p) for p, c in zip(person, truth["contact_id"]) if c),
        *(("service", i, p) for p, i in zip(person, email_ids)),
        *(("service", i, p) for p, i in zip(person[one_owner], phone_ids)),
    ]
    return pd.DataFrame(rows, columns=["source", "source_customer_id", "person_id"])


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def _linkable_groups(scored: pd.DataFrame, identifiers: pd.DataFrame) -> np.ndarray:
    """Per scored record (RangeIndex), a label shared by the records of its person that
    a chain of common identifiers joins (ambiguous ones included: they are evidence too)."""
    carried = identifiers.merge(scored.reset_index()[["index", "source", "source_customer_id", "person_id"]],
                                on=["source", "source_customer_id"])
    identifier_node = pd.factorize(carried["person_id"].astype(str) + "|" + carried["identifier_type"]
                                   + ":" + carried["identifier_value"])[0]  # one person's identifier
    size = len(scored) + identifier_node.max(initial=-1) + 1
    graph = coo_matrix((np.ones(len(carried)), (carried["index"], len(scored) + identifier_node)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    return labels[: len(scored)]


def score_identity(predicted: pd.DataFrame, truth: pd.DataFrame, identifiers: pd.DataFrame) -> IdentityQuality:
    """``predicted``: (customer_key, source, source_customer_id), e.g. marts.customer_identity_map;
    ``identifiers``: (source, source_customer_id, identifier_type, identifier_value) the records carry."""
    scored = predicted.merge(true_owners(truth), on=["source", "source_customer_id"])
    scored["linked"] = _linkable_groups(scored, identifiers)
    both = _pairs(scored.groupby(["customer_key", "person_id"]).size())
    predicted_pairs = _pairs(scored.groupby("customer_key").size())
    true_pairs = _pairs(scored.groupby("person_id").size())
    linkable_pairs = _pairs(scored.groupby("linked").size())
    found_linkable = _pairs(scored.groupby(["linked", "customer_key"]).size())
    return IdentityQuality(
        precision=both / predicted_pairs if predicted_pairs else 1.0,
        recall=both / true_pairs if true_pairs else 1.0,
        linkable_recall=found_linkable / linkable_pairs if linkable_pairs else 1.0,
        records=len(scored),
        people=scored["person_id"].nunique(),
    )


def identity_quality(cur, state_dir: Path) -> IdentityQuality:
    """Score the warehouse's identity map against a simulated world's truth file."""
    cur.execute("select customer_key, source, source_customer_id from marts.customer_identity_map")
    predicted = pd.DataFrame(cur.fetchall(), columns=["customer_key", "source", "source_customer_id"])
    cur.execute("select split_part(record_id, ':', 1), substr(record_id, strpos(record_id, ':') + 1),"
                " identifier_type, identifier_value from intermediate.int_identity_identifiers")
    identifiers = pd.DataFrame(cur.fetchall(), columns=["source", "source_customer_id", "identifier_type",
                                                        "identifier_value"])
    return score_identity(predicted, read_truth(state_dir), identifiers)
