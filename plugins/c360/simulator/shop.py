"""Channel 1: the web shop's own PostgreSQL database.

People get an account on their first web order or when they join the loyalty
programme (which also issues the member card used in the stores); a few open
a second account later. An order is paid when placed; its later fate (shipped,
cancelled, refunded) is decided then and kept in the private ``sim`` schema
until its day comes, so the public tables never show the future.

Each simulated day is one transaction that also records the day in
``sim.progress``, so a crash never leaves half a day behind.
"""
from __future__ import annotations

import io
from datetime import date

import numpy as np

from c360.simulator.tables import Table, concat, csv_text, length, nulls, take
from c360.simulator.world import (
    DAY, EMAIL_VARIANT_P, NEVER, PHONE_FORMATS, DayPurchases, Stream, World,
    day_rng, day_start, email_variant, format_phone, iso_utc, money,
)

CANCEL_SHARE = 0.03
REFUND_SHARE = 0.05
MARKETING_FLIP_PER_DAY = 0.002
FIRST_CUSTOMER_ID, FIRST_ORDER_ID, FIRST_ORDER_ITEM_ID = 1001, 100_001, 1_000_001

SCHEMA = """
create table if not exists products (
    product_id bigint primary key,
    name text not null,
    category text not null,
    price numeric(12,2) not null
);
create table if not exists customers (
    customer_id bigint primary key,
    email text,
    phone text,
    first_name text,
    last_name text,
    member_card_no text,
    accepts_marketing boolean,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create table if not exists orders (
    order_id bigint primary key,
    customer_id bigint references customers,
    ordered_at timestamptz not null,
    status text not null check (status in ('paid', 'shipped', 'cancelled', 'refunded')),
    total_amount numeric(12,2) not null,
    currency text not null default 'GBP',
    cancelled_at timestamptz,
    refunded_at timestamptz,
    updated_at timestamptz not null
);
create table if not exists order_items (
    order_item_id bigint primary key,
    order_id bigint references orders,
    product_id bigint,
    quantity int not null,
    unit_price numeric(12,2) not null,
    updated_at timestamptz not null
);
-- extractors read changes since a watermark
create index if not exists customers__updated_at on customers (updated_at);
create index if not exists orders__updated_at on orders (updated_at);
create index if not exists order_items__updated_at on order_items (updated_at);

create schema if not exists sim;
create table if not exists sim.progress (
    singleton boolean primary key default true check (singleton),
    last_day date not null
);
create table if not exists sim.accounts (
    customer_id bigint primary key,
    person_id bigint not null,
    is_duplicate boolean not null
);
create table if not exists sim.order_fates (
    order_id bigint not null,
    happens_on date not null,
    status text not null,
    happens_at timestamptz not null
);
create index if not exists order_fates__happens_on on sim.order_fates (happens_on);
create temp table if not exists customer_changes (
    customer_id bigint not null,
    member_card_no text,
    flip_marketing boolean not null,
    changed_at timestamptz not null
) on commit delete rows;
"""

APPLY_FATES = """
update orders o set
    status = f.status,
    updated_at = f.happens_at,
    cancelled_at = case when f.status = 'cancelled' then f.happens_at else o.cancelled_at end,
    refunded_at = case when f.status = 'refunded' then f.happens_at else o.refunded_at end
from sim.order_fates f
where f.order_id = o.order_id and f.happens_on = %(day)s;
"""

APPLY_CUSTOMER_CHANGES = """
update customers c set
    member_card_no = coalesce(u.member_card_no, c.member_card_no),
    accepts_marketing = c.accepts_marketing <> u.flip_marketing,
    updated_at = greatest(c.updated_at, u.changed_at)
from (
    select customer_id, max(member_card_no) as member_card_no, bool_or(flip_marketing) as flip_marketing,
           max(changed_at) as changed_at
    from customer_changes
    group by customer_id
) u
where u.customer_id = c.customer_id;
"""


def copy_rows(cur, table: str, rows: Table) -> int:
    """Bulk insert with COPY; None becomes NULL."""
    n = length(rows)
    if n:
        columns = list(rows)
        text = io.StringIO(csv_text(rows, columns, header=False))
        cur.copy_expert(f"copy {table} ({', '.join(columns)}) from stdin with (format csv)", text)
    return n


def _day_text(seconds: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(np.asarray(seconds).astype("datetime64[s]").astype("datetime64[D]"))


class Shop:
    """The shop database plus the simulator's memory of who owns which account."""

    def __init__(self, conn, world: World):
        self.conn, self.world = conn, world
        n = world.size
        self.primary = np.zeros(n, dtype=np.int64)  # customer_id of each person's first account, 0 = none
        self.primary_opened_at = np.full(n, NEVER)  # when it was opened (the app logs in with it from then)
        self.duplicate = np.zeros(n, dtype=np.int64)
        with conn.cursor() as cur:
            cur.execute(SCHEMA)
            cur.execute("select last_day from sim.progress")
            row = cur.fetchone()
            self.last_day: date | None = row[0] if row else None
            cur.execute("select a.person_id, a.customer_id, a.is_duplicate::int, extract(epoch from c.created_at)::bigint"
                        " from sim.accounts a join customers c using (customer_id)")
            accounts = np.array(cur.fetchall(), dtype=np.int64).reshape(-1, 4)
            dup = accounts[:, 2] == 1
            self.primary[accounts[~dup, 0] - 1] = accounts[~dup, 1]
            self.primary_opened_at[accounts[~dup, 0] - 1] = accounts[~dup, 3]
            self.duplicate[accounts[dup, 0] - 1] = accounts[dup, 1]
            cur.execute(
                "select (select max(customer_id) from customers), (select max(order_id) from orders),"
                " (select max(order_item_id) from order_items), (select count(*) from products)"
            )
            max_customer, max_order, max_item, products = cur.fetchone()
            if not products:
                catalog = world.catalog
                copy_rows(cur, "products", {
                    "product_id": catalog["product_id"].to_numpy(), "name": catalog["name"].to_numpy(),
                    "category": catalog["category"].to_numpy(), "price": money(catalog["price_pence"].to_numpy()),
                })
        conn.commit()
        self.next_customer_id = (max_customer or FIRST_CUSTOMER_ID - 1) + 1
        self.next_order_id = (max_order or FIRST_ORDER_ID - 1) + 1
        self.next_item_id = (max_item or FIRST_ORDER_ITEM_ID - 1) + 1

    def apply_day(self, day: date, purchases: DayPurchases) -> dict[str, int]:
        """Write one day: new accounts and account changes, new orders, due status changes."""
        rng = day_rng(self.world.settings.seed, day, Stream.SHOP)
        start = day_start(day)
        web = purchases.web()
        had_primary, had_duplicate = self.primary > 0, self.duplicate > 0
        with self.conn.cursor() as cur:
            created = self._open_accounts(cur, rng, web, start, had_primary)
            updated = self._change_accounts(cur, rng, start, had_primary, had_duplicate)
            orders, items = self._place_orders(cur, rng, web, start, had_duplicate)
            cur.execute(APPLY_FATES, {"day": day})
            status_changes = cur.rowcount
            cur.execute("delete from sim.order_fates where happens_on = %(day)s", {"day": day})
            cur.execute(
                "insert into sim.progress (last_day) values (%(day)s)"
                " on conflict (singleton) do update set last_day = excluded.last_day",
                {"day": day},
            )
        self.conn.commit()
        self.last_day = day
        return {"customers_created": created, "customers_updated": updated, "orders_created": orders,
                "order_items_created": items, "order_status_changes": status_changes}

    def _open_accounts(self, cur, rng, web: DayPurchases, start: int, had_primary: np.ndarray) -> int:
        w = self.world
        first_web = np.full(w.size, NEVER)
        np.minimum.at(first_web, web.person, web.at)
        signs_up = (w.signup_at >= start) & (w.signup_at < start + DAY)

        # first accounts: at checkout (a few minutes before the first order) or at loyalty sign-up
        people = np.flatnonzero(~had_primary & ((first_web < NEVER) | signs_up))
        at_checkout = np.maximum(first_web[people] - rng.integers(60, 900, people.size), start)
        created_at = np.minimum(at_checkout, w.signup_at[people])
        first = {
            "person": people,
            "email": email_variant(w.email[people], w.email_variant[people]),
            "has_phone": w.account_has_phone[people],
            "member_card_no": np.where(signs_up[people], w.member_card_no[people], None),
            "accepts_marketing": w.accepts_marketing[people],
            "created_at": created_at,
            "updated_at": np.where(signs_up[people], np.maximum(created_at, w.signup_at[people]), created_at),
            "is_duplicate": np.zeros(people.size, dtype=bool),
        }

        # second accounts: same person, the address typed differently, no member card
        dup = np.flatnonzero(had_primary & (self.duplicate == 0) & (w.duplicate_at >= start)
                             & (w.duplicate_at < start + DAY))
        other_variant = w.email_variant[dup] + 1 + rng.integers(0, len(EMAIL_VARIANT_P) - 1, dup.size)
        second = {
            "person": dup,
            "email": email_variant(w.email[dup], other_variant),
            "has_phone": rng.random(dup.size) < 0.5,
            "member_card_no": nulls(dup.size),
            "accepts_marketing": rng.random(dup.size) < 0.5,
            "created_at": w.duplicate_at[dup],
            "updated_at": w.duplicate_at[dup],
            "is_duplicate": np.ones(dup.size, dtype=bool),
        }
        accounts = concat(first, second)
        person = accounts["person"]
        accounts = take(accounts, np.lexsort((person, accounts["created_at"])))
        person, is_dup = accounts["person"], accounts["is_duplicate"]
        customer_id = self.next_customer_id + np.arange(person.size, dtype=np.int64)
        self.next_customer_id += person.size

        phone = format_phone(w.phone[person], rng.integers(0, PHONE_FORMATS, person.size))
        copy_rows(cur, "customers", {
            "customer_id": customer_id,
            "email": accounts["email"],
            "phone": np.where(accounts["has_phone"], phone, None),
            "first_name": w.first_name[person],
            "last_name": w.last_name[person],
            "member_card_no": accounts["member_card_no"],
            "accepts_marketing": accounts["accepts_marketing"],
            "created_at": iso_utc(accounts["created_at"]),
            "updated_at": iso_utc(accounts["updated_at"]),
        })
        copy_rows(cur, "sim.accounts", {
            "customer_id": customer_id, "person_id": w.person_id[person], "is_duplicate": is_dup,
        })
        self.primary[person[~is_dup]] = customer_id[~is_dup]
        self.primary_opened_at[person[~is_dup]] = accounts["created_at"][~is_dup]
        self.duplicate[person[is_dup]] = customer_id[is_dup]
        return person.size

    def _change_accounts(self, cur, rng, start: int, had_primary: np.ndarray, had_duplicate: np.ndarray) -> int:
        """Cards issued to existing account holders who join the programme; marketing consent toggled."""
        w = self.world
        joins = np.flatnonzero(had_primary & (w.signup_at >= start) & (w.signup_at < start + DAY))
        existing = np.sort(np.concatenate([self.primary[had_primary], self.duplicate[had_duplicate]]))
        flips = existing[rng.random(existing.size) < MARKETING_FLIP_PER_DAY]
        changes = concat(
            {"customer_id": self.primary[joins], "member_card_no": w.member_card_no[joins].astype(object),
             "flip_marketing": np.zeros(joins.size, dtype=bool), "changed_at": w.signup_at[joins]},
            {"customer_id": flips, "member_card_no": nulls(flips.size),
             "flip_marketing": np.ones(flips.size, dtype=bool), "changed_at": start + rng.integers(0, DAY, flips.size)},
        )
        if not length(changes):
            return 0
        changes["changed_at"] = iso_utc(changes["changed_at"])
        copy_rows(cur, "customer_changes", changes)
        cur.execute(APPLY_CUSTOMER_CHANGES)
        return cur.rowcount

    def _place_orders(self, cur, rng, web: DayPurchases, start: int, had_duplicate: np.ndarray) -> tuple[int, int]:
        m = web.person.size
        # people with two accounts use either (the second only from the day after it was opened)
        use_second = had_duplicate[web.person] & (rng.random(m) < 0.5)
        customer_id = np.where(use_second, self.duplicate[web.person], self.primary[web.person])
        order_id = self.next_order_id + np.arange(m, dtype=np.int64)
        item_id = self.next_item_id + np.arange(web.item_purchase.size, dtype=np.int64)
        self.next_order_id += m
        self.next_item_id += item_id.size
        ordered_at = iso_utc(web.at)
        copy_rows(cur, "orders", {
            "order_id": order_id, "customer_id": customer_id, "ordered_at": ordered_at,
            "status": np.full(m, "paid"), "total_amount": money(web.pence), "currency": np.full(m, "GBP"),
            "updated_at": ordered_at,
        })
        copy_rows(cur, "order_items", {
            "order_item_id": item_id, "order_id": order_id[web.item_purchase], "product_id": web.item_product,
            "quantity": web.item_quantity, "unit_price": money(web.item_unit_pence),
            "updated_at": ordered_at[web.item_purchase],
        })

        # fates: cancelled within a day (never shipped), else shipped 1-3 days later, some refunded 5-20 days after
        cancelled = rng.random(m) < CANCEL_SHARE
        cancel_at = web.at + rng.integers(600, DAY, m)
        ship_day = start + rng.integers(1, 4, m) * DAY
        ship_at = ship_day + rng.integers(8 * 3600, 18 * 3600, m)
        refunded = ~cancelled & (rng.random(m) < REFUND_SHARE)
        refund_at = ship_day + rng.integers(5, 21, m) * DAY + rng.integers(9 * 3600, 18 * 3600, m)
        fates = concat(*(
            {"order_id": order_id[mask], "status": np.full(mask.sum(), status), "at": at[mask]}
            for status, mask, at in (("cancelled", cancelled, cancel_at), ("shipped", ~cancelled, ship_at),
                                     ("refunded", refunded, refund_at))
        ))
        at = fates.pop("at")
        fates["happens_on"] = _day_text(at)
        fates["happens_at"] = iso_utc(at)
        copy_rows(cur, "sim.order_fates", fates)
        return m, item_id.size
