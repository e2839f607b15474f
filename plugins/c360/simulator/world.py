"""The hidden truth: people, their traits and identifiers, and what they buy.

Everything here is a pure function of the settings (the world) or of the
settings and one day (that day's purchases), so any day can be recomputed at
any time and gives the same answer. Times are int64 seconds since the Unix
epoch, UTC; ``NEVER`` marks a trait event that does not happen. Campaign
sends (campaigns.py) are part of the truth too: they raise the purchase rates
of responsive people, so purchases follow them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import IntEnum
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from c360.simulator.settings import SimulationSettings

if TYPE_CHECKING:
    from c360.simulator.campaigns import CampaignPlan

DAY = 86_400
NEVER = np.int64(2**62)
NEVER_DAY = np.int64(10**9)  # a day index that never comes
STORE_TZ = ZoneInfo("Europe/London")
STORE_OPENS, STORE_CLOSES = 9 * 3600, 20 * 3600  # local time
WEEKDAY_FACTOR = np.array([0.9, 0.9, 0.95, 1.0, 1.1, 1.3, 0.85])  # Monday first
CHURNED_FACTOR = 0.02  # what is left of a churned person's purchase rate
HOME_STORE_LOYALTY = 0.85
MAX_DEVICES = 3  # app devices per person
COMPLAINT_CHURN_SHARE = 0.3  # of complaints scored 1-2, the share after which the person churns

FIRST_NAMES = np.array([
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Sophia", "Lily", "Freya", "Emily",
    "Ella", "Poppy", "Chloe", "Evie", "Ruby", "Zara", "Priya", "Aisha", "Niamh", "Hannah",
    "Oliver", "George", "Harry", "Noah", "Jack", "Leo", "Arthur", "Muhammad", "Oscar", "Charlie",
    "Jacob", "Thomas", "Henry", "James", "William", "Alfie", "Joshua", "Rohan", "Callum", "Ethan",
])
LAST_NAMES = np.array([
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
    "Clarke", "Khan", "Hughes", "Edwards", "Lewis", "Murphy", "Campbell", "Kelly", "Shah", "Ahmed",
    "Turner", "Harris", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee",
])
EMAIL_DOMAINS = np.array(["example.com", "example.org", "example.net", "mail.example.com", "post.example.org"])
# how often each written form of an e-mail address is typed (see email_variant)
EMAIL_VARIANT_P = [0.6, 0.15, 0.05, 0.1, 0.1]
PHONE_FORMATS = 6  # see format_phone
MOBILE_RANGE = 600_000_000

CATEGORIES = {  # category: (typical price in pounds, products)
    "Apparel": (32, ["T-Shirt", "Hoodie", "Jeans", "Jacket", "Dress", "Jumper"]),
    "Footwear": (65, ["Trainers", "Boots", "Sandals", "Loafers"]),
    "Accessories": (22, ["Cap", "Scarf", "Belt", "Tote Bag", "Wallet", "Sunglasses"]),
    "Home": (18, ["Candle", "Mug", "Throw", "Cushion"]),
    "Beauty": (12, ["Hand Cream", "Lip Balm", "Face Oil", "Body Wash"]),
}
PRODUCT_STYLES = ["Classic", "Organic", "Everyday", "Heritage", "Coastal", "Urban"]
ID_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))


class Stream(IntEnum):
    """Independent random streams, so one channel's draws never shift another's."""

    WORLD = 0
    PURCHASES = 1
    SHOP = 2
    POS = 3
    SOCIAL = 4
    POS_FILES = 5
    APP = 6
    CAMPAIGNS = 7
    SERVICE = 8


def day_rng(seed: int, day: date, stream: Stream) -> np.random.Generator:
    return np.random.default_rng([seed, day.toordinal(), int(stream)])


def trait_rng(seed: int, stream: Stream) -> np.random.Generator:
    """A channel's hidden traits: day 0, which no day_rng uses (ordinals start at 1)."""
    return np.random.default_rng([seed, 0, int(stream)])


def day_start(day: date) -> int:
    return int(datetime.combine(day, time.min, tzinfo=timezone.utc).timestamp())


def iso_utc(seconds: np.ndarray) -> np.ndarray:
    """'2024-01-31T09:15:00Z' strings."""
    return np.datetime_as_string(np.asarray(seconds, dtype=np.int64).astype("datetime64[s]"), timezone="UTC")


def store_utc_offset(day: date) -> int:
    """Seconds the stores' clocks are ahead of UTC on this day (BST or GMT)."""
    noon = datetime.combine(day, time(12), tzinfo=STORE_TZ)
    return int(noon.utcoffset().total_seconds())


def store_hours_utc(rng: np.random.Generator, day: date, size: int) -> np.ndarray:
    """Random moments during opening hours, as UTC seconds."""
    return day_start(day) + rng.integers(STORE_OPENS, STORE_CLOSES, size) - store_utc_offset(day)


def format_phone(national: np.ndarray, fmt: np.ndarray) -> np.ndarray:
    """One UK mobile number (10 national digits, '7700900123') written the ways people write it."""
    national = np.asarray(national, dtype=str)
    head, mid, tail = (np.strings.slice(national, a, b) for a, b in ((0, 4), (4, 7), (7, 10)))
    add = np.strings.add
    forms = [
        add(add(add("+44 ", head), " "), add(mid, tail)),  # +44 7700 900123
        add("0", national),  # 07700900123
        add(add(add(add(add("(0)", head), "-"), mid), " "), tail),  # (0)7700-900 123
        add("44", national),  # 447700900123
        add("+44", national),  # +447700900123
        add(add(add(add("0", head), " "), add(mid, " ")), tail),  # 07700 900 123
    ]
    return np.choose(np.asarray(fmt) % PHONE_FORMATS, forms)


def email_variant(email: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """The same address as people type it: as is, capitalised, shouting, padded with spaces."""
    email = np.asarray(email, dtype=str)
    if email.size == 0:  # np.strings.partition cannot size an empty result
        return email
    local, _, domain = np.strings.partition(email, "@")
    forms = [
        email,
        np.strings.add(np.strings.add(np.strings.title(local), "@"), domain),
        np.strings.upper(email),
        np.strings.add(np.strings.add(" ", email), " "),
        np.strings.add(np.strings.title(email), "  "),
    ]
    return np.choose(np.asarray(variant) % len(forms), forms)


def random_ids(rng: np.random.Generator, prefix: str, n: int, length: int = 27) -> np.ndarray:
    chars = ID_ALPHABET[rng.integers(0, ID_ALPHABET.size, (n, length))]
    return np.strings.add(prefix, np.ascontiguousarray(chars).view(f"<U{length}").ravel())


def _seconds_after(start: int, rng: np.random.Generator, mean_days: float, n: int) -> np.ndarray:
    return start + (rng.exponential(mean_days, n) * DAY).astype(np.int64)


@dataclass(frozen=True)
class World:
    """N people with hidden traits; arrays are indexed by person (person_id - 1)."""

    settings: SimulationSettings
    person_id: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    email: np.ndarray  # canonical, lower case
    email_variant: np.ndarray  # how they type it when they open their (first) shop account
    phone: np.ndarray  # national digits; E.164 is '+44' + phone
    household_id: np.ndarray  # 0 = phone not shared
    is_prospect: np.ndarray
    rate: np.ndarray  # purchases per day before churn
    churn_day: np.ndarray  # day index (days since start_date) the rate collapses, or NEVER_DAY
    store_share: np.ndarray
    home_store: np.ndarray
    basket_extra: np.ndarray  # mean number of extra items in a basket
    is_member: np.ndarray
    signup_at: np.ndarray  # loyalty sign-up: creates the shop account if needed and issues the card
    member_card_no: np.ndarray
    account_has_phone: np.ndarray
    accepts_marketing: np.ndarray
    duplicate_at: np.ndarray  # opens a second shop account then (if they have one by then)
    follows: np.ndarray
    follow_at: np.ndarray
    unfollow_at: np.ndarray
    bind_at: np.ndarray  # binds their phone to the social account
    social_phone_format: np.ndarray
    engagement: np.ndarray  # social interactions per day while following
    reach: np.ndarray  # own follower count when they follow
    openid: np.ndarray
    unionid: np.ndarray
    nickname: np.ndarray
    catalog: pd.DataFrame  # product_id, name, category, price_pence, weight
    # app: one entry per device (a user has 1-3); used anonymously until its first login
    uses_app: np.ndarray
    app_activity: np.ndarray  # sessions per day over all their devices
    device_person: np.ndarray
    device_no: np.ndarray  # the digits of the device id
    device_platform: np.ndarray
    device_installed_at: np.ndarray
    device_login_at: np.ndarray  # NEVER: only ever used anonymously
    # campaigns (see campaigns.py for the sends themselves)
    is_responsive: np.ndarray  # a send with an effect really raises their purchase rate
    list_joined_at: np.ndarray  # joins the e-mail/SMS tool's marketing list, or NEVER
    sms_opt_in: np.ndarray
    send_tolerance: np.ndarray  # unsubscribes on the n-th send they receive
    contact_no: np.ndarray  # the tool's own contact number
    contact_email_variant: np.ndarray  # how the address was typed into the tool
    contact_phone_format: np.ndarray
    # service
    ticket_rate: np.ndarray  # tickets per day not caused by a purchase
    is_churn_prone: np.ndarray  # churns (before any complaint): more tickets after purchases too
    complaint_at: np.ndarray  # a complaint ticket, or NEVER
    complaint_score: np.ndarray  # its satisfaction score; a low one may bring churn forward

    @property
    def size(self) -> int:
        return self.person_id.size

    @property
    def start(self) -> int:
        return day_start(self.settings.start_date)

    def day_index(self, day: date) -> int:
        return (day - self.settings.start_date).days

    @cached_property
    def campaigns(self) -> "CampaignPlan":
        from c360.simulator.campaigns import CampaignPlan  # it builds on this module

        return CampaignPlan(self)

    def rate_on(self, day: date) -> np.ndarray:
        if day < self.settings.start_date:
            return np.zeros(self.size)
        churned = self.day_index(day) >= self.churn_day
        lift = self.campaigns.rate_factor(day)
        return self.rate * np.where(churned, CHURNED_FACTOR, 1.0) * WEEKDAY_FACTOR[day.weekday()] * lift

    def expected_purchases(self, as_of: date, days: int = 30) -> np.ndarray:
        """True expected number of purchases (web and store) in the `days` after `as_of`."""
        return sum(self.rate_on(as_of + timedelta(days=k)) for k in range(1, days + 1))

    @classmethod
    def build(cls, settings: SimulationSettings) -> "World":
        rng = np.random.default_rng([settings.seed, 0, int(Stream.WORLD)])
        n = settings.customers
        start = day_start(settings.start_date)
        is_prospect = rng.random(n) < settings.prospect_share
        buyer = ~is_prospect

        # heavy-tailed purchase rate: median one purchase in ~90 days, a few buy weekly
        z_rate = rng.standard_normal(n)
        rate = np.where(buyer, np.minimum(np.exp(np.log(1 / 90) + 1.1 * z_rate), 0.5), 0.0)
        churns = buyer & (rng.random(n) < settings.churn_share)
        churn_day = np.where(churns, 14 + rng.exponential(150, n).astype(np.int64), NEVER_DAY)
        service = _service_traits(settings, buyer, churns)
        churn_day = np.minimum(churn_day, service.pop("churn_after_complaint"))

        first_index = rng.integers(0, FIRST_NAMES.size, n)
        last_index = rng.integers(0, LAST_NAMES.size, n)
        # distinct mobile numbers 074xx-079xx: an affine bijection (the multiplier is a prime) on the range
        offset = int(rng.integers(0, MOBILE_RANGE))
        phone = (7_400_000_000 + (np.arange(n, dtype=np.int64) * 982_451_653 + offset) % MOBILE_RANGE).astype(str)
        household_id = np.zeros(n, dtype=np.int64)
        # a few families of 3-4 share one phone (and a surname)
        sizes = rng.integers(3, 5, n // 150)
        members = rng.permutation(n)[: sizes.sum()]
        leader = members[np.repeat(np.cumsum(sizes) - sizes, sizes)]
        household_id[members] = np.repeat(np.arange(1, sizes.size + 1), sizes)
        phone[members] = phone[leader]
        last_index[members] = last_index[leader]
        first_name, last_name = FIRST_NAMES[first_index], LAST_NAMES[last_index]
        first_lower = np.strings.lower(FIRST_NAMES)[first_index]
        last_lower = np.strings.lower(LAST_NAMES)[last_index]
        person_id = np.arange(1, n + 1, dtype=np.int64)
        local = np.strings.add(np.strings.add(first_lower, "."), last_lower)
        email = np.strings.add(
            np.strings.add(local, person_id.astype(str)),
            np.strings.add("@", EMAIL_DOMAINS[rng.integers(0, EMAIL_DOMAINS.size, n)]),
        )

        is_member = buyer & (rng.random(n) < 0.55)
        signup_at = np.where(is_member, _seconds_after(start, rng, 120, n), NEVER)
        member_card_no = np.where(is_member, np.strings.add("M", digits(1 + rng.permutation(n), 8)), "")
        duplicate_at = np.where(buyer & (rng.random(n) < 0.05), _seconds_after(start + 7 * DAY, rng, 60, n), NEVER)

        # social engagement rises with how much someone buys
        z_engagement = 0.6 * z_rate + 0.8 * rng.standard_normal(n)
        engagement = np.minimum(np.exp(np.log(0.12) + 0.9 * z_engagement), 5.0)
        follows = is_prospect | (rng.random(n) < 1 / (1 + np.exp(-(z_engagement - 0.8))))
        follow_at = np.where(follows, _seconds_after(start, rng, 60, n), NEVER)
        unfollows = follows & (rng.random(n) < np.where(churns, 0.35, 0.12))
        unfollow_at = np.where(unfollows, follow_at + 7 * DAY + (rng.exponential(120, n) * DAY).astype(np.int64), NEVER)
        bind_draw = rng.random(n)
        bind_at = np.select(
            [bind_draw < 0.35, bind_draw < 0.6],
            [follow_at, follow_at + (rng.exponential(30, n) * DAY).astype(np.int64)],
            NEVER,
        )
        bind_at = np.where(follows & (bind_at < unfollow_at), bind_at, NEVER)
        suffix = rng.integers(1, 10_000, n).astype(str)
        nickname = np.where(
            rng.random(n) < 0.5,
            np.strings.add(first_name, suffix),
            np.strings.add(np.strings.add(first_lower, "_"), last_lower),
        )

        return cls(
            settings=settings,
            person_id=person_id,
            first_name=first_name,
            last_name=last_name,
            email=email,
            email_variant=rng.choice(len(EMAIL_VARIANT_P), n, p=EMAIL_VARIANT_P),
            phone=phone,
            household_id=household_id,
            is_prospect=is_prospect,
            rate=rate,
            churn_day=churn_day,
            store_share=rng.beta(0.7, 0.7, n),
            home_store=rng.integers(0, settings.stores, n),
            basket_extra=rng.gamma(2.0, 0.35, n),
            is_member=is_member,
            signup_at=signup_at,
            member_card_no=member_card_no,
            account_has_phone=rng.random(n) < 0.8,
            accepts_marketing=(accepts_marketing := rng.random(n) < 0.6),  # (drawn here: keeps the stream's order)
            duplicate_at=duplicate_at,
            follows=follows,
            follow_at=follow_at,
            unfollow_at=unfollow_at,
            bind_at=bind_at,
            social_phone_format=rng.integers(0, PHONE_FORMATS, n),
            engagement=engagement,
            reach=np.minimum((rng.pareto(1.2, n) * 40).astype(np.int64), 5_000_000),
            openid=random_ids(rng, "o", n),
            unionid=random_ids(rng, "U", n),
            nickname=nickname,
            catalog=_catalog(rng),
            **_app_traits(settings, is_prospect),
            **_campaign_traits(settings, buyer & accepts_marketing),
            **service,
        )


def _app_traits(settings: SimulationSettings, is_prospect: np.ndarray) -> dict[str, np.ndarray]:
    rng = trait_rng(settings.seed, Stream.APP)
    n, start = settings.customers, day_start(settings.start_date)
    uses_app = rng.random(n) < np.where(is_prospect, 0.15, 0.4)
    users = np.flatnonzero(uses_app)
    devices = rng.integers(1, MAX_DEVICES + 1, users.size)
    person = np.repeat(users, devices)
    first = np.repeat(np.arange(users.size), devices)
    later = np.arange(person.size) != np.repeat(np.cumsum(devices) - devices, devices)
    first_install = _seconds_after(start, rng, 60, users.size)
    installed_at = first_install[first] + np.where(later, (rng.exponential(120, person.size) * DAY).astype(np.int64), 0)
    logs_in = rng.random(person.size) < 0.85
    return {
        "uses_app": uses_app,
        "app_activity": np.where(uses_app, rng.lognormal(np.log(0.3), 0.8, n), 0.0),
        "device_person": person,
        "device_no": rng.integers(0, 10**16, person.size),
        "device_platform": np.where(rng.random(person.size) < 0.55, "ios", "android"),
        "device_installed_at": installed_at,
        # anonymous sessions first: the login comes hours to days after the install
        "device_login_at": np.where(logs_in, installed_at + (rng.exponential(4, person.size) * DAY).astype(np.int64),
                                    NEVER),
    }


def _campaign_traits(settings: SimulationSettings, marketable: np.ndarray) -> dict[str, np.ndarray]:
    rng = trait_rng(settings.seed, Stream.CAMPAIGNS)
    n, start = settings.customers, day_start(settings.start_date)
    # half the list predates the simulation; the rest sign up over time
    joined = start + np.where(rng.random(n) < 0.5, -DAY, (rng.exponential(90, n) * DAY).astype(np.int64))
    return {
        "is_responsive": rng.random(n) < 0.3,
        "list_joined_at": np.where(marketable, joined, NEVER),
        "sms_opt_in": rng.random(n) < 0.45,
        "send_tolerance": rng.geometric(0.05, n),
        "contact_no": 1 + rng.permutation(n),
        "contact_email_variant": rng.choice(len(EMAIL_VARIANT_P), n, p=EMAIL_VARIANT_P),
        "contact_phone_format": rng.integers(0, PHONE_FORMATS, n),
    }


def _service_traits(settings: SimulationSettings, buyer: np.ndarray, churns: np.ndarray) -> dict[str, np.ndarray]:
    """Ticket habits, and complaints: a badly handled one brings some people's churn forward
    (``churn_after_complaint``, a day index or NEVER_DAY)."""
    rng = trait_rng(settings.seed, Stream.SERVICE)
    n, start = settings.customers, day_start(settings.start_date)
    complains = buyer & (rng.random(n) < 0.12)
    complaint_at = np.where(complains, _seconds_after(start, rng, 120, n), NEVER)
    score = rng.choice(np.arange(1, 6), n, p=[0.35, 0.25, 0.15, 0.15, 0.10])
    leaves = complains & (score <= 2) & (rng.random(n) < COMPLAINT_CHURN_SHARE)
    churn_after = (complaint_at - start) // DAY + 7 + rng.exponential(21, n).astype(np.int64)
    return {
        "ticket_rate": np.where(buyer, 0.0008, 0.0002) * np.where(churns, 3.0, 1.0),
        "is_churn_prone": churns,
        "complaint_at": complaint_at,
        "complaint_score": score,
        "churn_after_complaint": np.where(leaves, churn_after, NEVER_DAY),
    }


def _catalog(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for category, (pounds, products) in CATEGORIES.items():
        for product in products:
            for style in rng.choice(PRODUCT_STYLES, 2, replace=False):
                price = max(3, round(pounds * rng.lognormal(0, 0.3)))
                rows.append((f"{style} {product}", category, price * 100 - 1))
    catalog = pd.DataFrame(rows, columns=["name", "category", "price_pence"])
    catalog.insert(0, "product_id", np.arange(101, 101 + len(catalog), dtype=np.int64))
    popularity = 1 / np.arange(1, len(catalog) + 1) ** 0.8
    catalog["weight"] = rng.permutation(popularity) / popularity.sum()
    return catalog


@dataclass(frozen=True)
class DayPurchases:
    """Who bought what on one day, in time order. Items point into the purchases."""

    day: date
    person: np.ndarray
    at: np.ndarray
    in_store: np.ndarray
    store: np.ndarray
    pence: np.ndarray
    item_purchase: np.ndarray
    item_product: np.ndarray
    item_quantity: np.ndarray
    item_unit_pence: np.ndarray

    def web(self) -> "DayPurchases":
        return self._subset(~self.in_store)

    def store_sales(self) -> "DayPurchases":
        return self._subset(self.in_store)

    def _subset(self, mask: np.ndarray) -> "DayPurchases":
        new_index = np.cumsum(mask) - 1
        items = mask[self.item_purchase]
        return DayPurchases(
            self.day, self.person[mask], self.at[mask], self.in_store[mask], self.store[mask], self.pence[mask],
            new_index[self.item_purchase[items]], self.item_product[items], self.item_quantity[items],
            self.item_unit_pence[items],
        )


def purchases_on(world: World, day: date) -> DayPurchases:
    rng = day_rng(world.settings.seed, day, Stream.PURCHASES)
    person = np.repeat(np.arange(world.size), rng.poisson(world.rate_on(day)))
    m = person.size
    in_store = rng.random(m) < world.store_share[person]
    strays = rng.random(m) >= HOME_STORE_LOYALTY
    store = np.where(strays, rng.integers(0, world.settings.stores, m), world.home_store[person])
    at = np.where(in_store, store_hours_utc(rng, day, m), day_start(day) + rng.integers(0, DAY, m))
    order = np.lexsort((person, at))
    person, in_store, store, at = person[order], in_store[order], store[order], at[order]

    n_items = 1 + np.minimum(rng.poisson(world.basket_extra[person]), 5)
    item_purchase = np.repeat(np.arange(m), n_items)
    catalog = world.catalog
    product = rng.choice(len(catalog), item_purchase.size, p=catalog["weight"].to_numpy())
    quantity = 1 + (rng.random(item_purchase.size) < 0.12) * rng.integers(1, 3, item_purchase.size)
    unit = catalog["price_pence"].to_numpy()[product]
    pence = np.bincount(item_purchase, weights=quantity * unit, minlength=m).astype(np.int64)
    return DayPurchases(
        day, person, at, in_store, store, pence,
        item_purchase, catalog["product_id"].to_numpy()[product], quantity, unit,
    )


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded text (np.strings.zfill fails on empty arrays)."""
    values = np.asarray(values, dtype=np.int64)
    if values.size and values.max() >= 10**width:
        raise ValueError(f"{values.max()} does not fit in {width} digits")
    return np.strings.slice((values + 10**width).astype(str), 1, width + 1)


def money(pence: np.ndarray) -> np.ndarray:
    """Pence as '12.34' strings, exact (no floats)."""
    pence = np.asarray(pence, dtype=np.int64)
    return np.strings.add(np.strings.add((pence // 100).astype(str), "."), digits(pence % 100, 2))
