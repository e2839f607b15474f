"""Scoring identity resolution against the simulator's truth, on hand-made cases."""
import hashlib

import pandas as pd
import pytest

from c360.identity_quality import score_identity

TRUTH = pd.DataFrame({
    "person_id": [1, 2, 3, 4],
    "customer_ids": [[10, 11], [20], [], [40]],  # person 1 has two shop accounts
    "member_card_no": ["M1", "", "", ""],
    "openid": ["", "o2", "o3", ""],
    "phone_e164": ["+441", "+442", "+449", "+449"],  # 3 and 4 share a family phone
    "email": ["a@x", "b@x", "c@x", "d@x"],
    "contact_id": ["", "", "", ""],
})


def phone(number: str) -> str:
    return "phone:" + hashlib.sha256(number.encode()).hexdigest()


# what the records carry: person 1's accounts share an e-mail and the card; person 2 never bound a phone
IDENTIFIERS = pd.DataFrame([
    ("shop", "10", "email", "a@x"), ("shop", "11", "email", "a@x"), ("shop", "10", "member_card", "M1"),
    ("pos", "card:M1", "member_card", "M1"), ("pos", "card:M1", "phone", "+441"), ("pos", phone("+441"), "phone", "+441"),
    ("shop", "20", "email", "b@x"), ("shop", "40", "phone", "+449"),
], columns=["source", "source_customer_id", "identifier_type", "identifier_value"])


def predicted(*groups):
    return pd.DataFrame([(f"k{n}", source, sid) for n, group in enumerate(groups) for source, sid in group],
                        columns=["customer_key", "source", "source_customer_id"])


PERSON_1 = [("shop", "10"), ("shop", "11"), ("pos", "card:M1"), ("pos", phone("+441"))]


def test_finding_every_true_person_scores_one():
    quality = score_identity(predicted(PERSON_1, [("shop", "20"), ("social", "o2")], [("social", "o3")],
                                       [("shop", "40")]), TRUTH, IDENTIFIERS)
    assert (quality.precision, quality.recall, quality.linkable_recall, quality.people) == (1.0, 1.0, 1.0, 4)


def test_a_missed_merge_lowers_recall_and_a_wrong_one_precision():
    split = score_identity(predicted(PERSON_1[:2], PERSON_1[2:], [("shop", "20"), ("social", "o2")]), TRUTH, IDENTIFIERS)
    assert split.precision == 1.0 and split.recall == pytest.approx(3 / 7)  # 2 + 1 of person 1's 6 pairs, and 2's
    assert split.linkable_recall == pytest.approx(2 / 6)  # person 2's pair shares no identifier: not linkable
    family = score_identity(predicted([("social", "o3"), ("shop", "40")]), TRUTH, IDENTIFIERS)
    assert family.recall == 1.0 and family.precision == 0.0


def test_pairs_the_data_cannot_link_count_against_recall_only():
    quality = score_identity(predicted(PERSON_1, [("shop", "20")], [("social", "o2")]), TRUTH, IDENTIFIERS)
    assert quality.recall == pytest.approx(6 / 7) and quality.linkable_recall == 1.0


def test_a_shared_family_phone_is_not_scored():
    quality = score_identity(predicted([("pos", phone("+449")), ("shop", "40")]), TRUTH, IDENTIFIERS)
    assert quality.records == 1
