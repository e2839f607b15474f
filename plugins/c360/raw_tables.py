"""The raw tables: one per channel entity, append-only, typed.

Each batch's rows are parsed against these columns before validation; a value
that does not parse is quarantined with the column named, never coerced away.
Columns ``_batch_id`` and ``_loaded_at`` tie each row to its ``ops.batches``
record; file sources also keep the file and line each row came from. Columns a
source starts sending that the table does not know are kept, per row, in the
JSON object ``_extra`` (schema drift loses nothing; the batch reports them).
Columns named ``personal`` hold personal data: messages about a bad value in one
(quarantine reasons, batch messages, data-quality results) never quote the value.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # bigint | int | numeric | text | timestamptz | boolean
    required: bool = False  # must be present in the batch and not null


@dataclass(frozen=True)
class RawTable:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # a row is a new version of the same entity when it has the same key
    version_column: str | None = None
    # an event stream: a re-delivered event's newest version is the one loaded last,
    # so incremental staging reads only the rows loaded since its last build. Other
    # tables' staging re-reads every version of the entities loaded since, by an
    # index on the key (their versions need not arrive in order).
    event_stream: bool = False
    file_lineage: bool = False
    personal: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return f"raw.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def lineage_columns(self) -> list[str]:
        return ["_source_file", "_source_line"] if self.file_lineage else []

    def ddl(self) -> str:
        pg_types = {"numeric": "numeric(14,2)"}
        cols = [f"{c.name} {pg_types.get(c.kind, c.kind)}" for c in self.columns]
        if self.file_lineage:
            cols += ["_source_file text not null", "_source_line bigint not null"]
        cols += ["_extra jsonb", "_batch_id text not null", "_loaded_at timestamptz not null"]
        # a table made by an older c360 gets the columns added since (nullable: old rows lack them)
        added = "".join(f"alter table {self.qualified} add column if not exists {col.removesuffix(' not null')};\n"
                        for col in cols)
        return (
            f"create table if not exists {self.qualified} (\n    " + ",\n    ".join(cols) + "\n);\n" + added
            + f"create index if not exists {self.name}__batch on {self.qualified} (_batch_id);\n"
            # incremental staging reads the rows loaded since its last build
            + f"create index if not exists {self.name}__loaded on {self.qualified} (_loaded_at);"
            + ("" if self.event_stream else
               f"\ncreate index if not exists {self.name}__key on {self.qualified} ({', '.join(self.key)});")
        )

    def unknown_columns(self, columns) -> list[str]:
        """Columns of an extracted batch that this table does not define (schema drift)."""
        known = set(self.column_names) | set(self.lineage_columns)
        return [c for c in columns if c not in known]


def _cols(*specs: str) -> tuple[Column, ...]:
    """'name:kind' or 'name:kind!' (required)."""
    out = []
    for spec in specs:
        name, kind = spec.split(":")
        out.append(Column(name, kind.rstrip("!"), kind.endswith("!")))
    return tuple(out)


RAW_TABLES: dict[str, RawTable] = {
    t.name: t
    for t in (
        RawTable(
            "shop_customers",
            _cols("customer_id:bigint!", "email:text", "phone:text", "first_name:text", "last_name:text",
                  "member_card_no:text", "accepts_marketing:boolean", "created_at:timestamptz!",
                  "updated_at:timestamptz!"),
            key=("customer_id",), version_column="updated_at",
            personal=("email", "phone", "first_name", "last_name", "member_card_no"),
        ),
        RawTable(
            "shop_orders",
            _cols("order_id:bigint!", "customer_id:bigint", "ordered_at:timestamptz!", "status:text!",
                  "total_amount:numeric!", "currency:text", "cancelled_at:timestamptz", "refunded_at:timestamptz",
                  "updated_at:timestamptz!"),
            key=("order_id",), version_column="updated_at",
        ),
        RawTable(
            "shop_order_items",
            _cols("order_item_id:bigint!", "order_id:bigint!", "product_id:bigint", "quantity:int!",
                  "unit_price:numeric!", "updated_at:timestamptz!"),
            key=("order_item_id",), version_column="updated_at",
        ),
        RawTable(
            "pos_receipts",
            _cols("receipt_id:text!", "store_id:text!", "purchased_at:timestamptz!", "member_card_no:text",
                  "phone:text", "total_amount:numeric!", "transaction_type:text!", "original_receipt_id:text"),
            key=("receipt_id",), file_lineage=True, personal=("member_card_no", "phone"),
        ),
        RawTable(
            "social_followers",
            _cols("openid:text!", "unionid:text", "bound_phone:text", "nickname:text", "followed_at:timestamptz",
                  "unfollowed_at:timestamptz", "follower_count:int", "updated_at:timestamptz!"),
            key=("openid",), version_column="updated_at", personal=("unionid", "bound_phone", "nickname"),
        ),
        RawTable(
            "social_events",
            _cols("event_id:bigint!", "openid:text!", "event_type:text!", "occurred_at:timestamptz!",
                  "content_id:text", "seconds_read:int"),
            key=("event_id",), event_stream=True,
        ),
        RawTable(
            "app_events",
            _cols("event_id:text!", "event_type:text!", "occurred_at:timestamptz!", "device_id:text!", "platform:text",
                  "session_id:text", "customer_id:bigint", "email:text", "product_id:bigint"),
            key=("event_id",), event_stream=True, file_lineage=True, personal=("email",),
        ),
        RawTable(
            "campaign_events",
            _cols("event_id:text!", "campaign_id:text!", "campaign_name:text", "channel:text!", "contact_id:text!",
                  "email:text", "phone:text", "event_type:text!", "occurred_at:timestamptz!", "is_holdout:boolean!",
                  "cost_per_send:numeric", "conversion_amount:numeric"),
            key=("event_id",), event_stream=True, file_lineage=True, personal=("email", "phone"),
        ),
        RawTable(
            "service_tickets",
            _cols("ticket_id:text!", "category:text!", "contact_channel:text", "email:text", "phone:text",
                  "opened_at:timestamptz!", "closed_at:timestamptz", "satisfaction_score:int",
                  "updated_at:timestamptz!"),
            key=("ticket_id",), version_column="updated_at", file_lineage=True, personal=("email", "phone"),
        ),
        RawTable(
            # a user's own file (c360 import-transactions); one table for every imported source
            "imported_transactions",
            _cols("source:text!", "transaction_id:text!", "order_id:text", "customer_id:text!",
                  "ordered_at:timestamptz!", "amount:numeric!", "file_sha256:text!"),
            key=("source", "transaction_id"), file_lineage=True, personal=("customer_id",),
        ),
    )
}


def create_raw_tables(cur) -> None:
    for table in RAW_TABLES.values():
        cur.execute(table.ddl())
