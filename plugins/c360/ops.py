"""DDL of the ``ops`` schema: the pipeline's own bookkeeping.

Every batch is accounted for here (extracted = loaded + quarantined), next to
the watermarks and file manifest that make extraction incremental, the
quarantined rows with their reasons, data-quality results and sync logs.
"""

OPS_DDL = """
create table if not exists ops.batches (
    batch_id          text primary key,
    source            text not null,
    raw_table         text not null,
    logical_date      date not null,
    status            text not null check (status in ('landed', 'promoted', 'rejected', 'empty')),
    rows_extracted    bigint not null default 0,
    rows_loaded       bigint not null default 0,
    rows_quarantined  bigint not null default 0,
    checksum          text,
    watermark_from    text,
    watermark_to      text,
    message           text,
    started_at        timestamptz not null default now(),
    finished_at       timestamptz
);

create table if not exists ops.watermarks (
    source      text not null,
    cursor_name text not null,
    value       text not null,
    batch_id    text not null,
    updated_at  timestamptz not null default now(),
    primary key (source, cursor_name)
);

create table if not exists ops.file_manifest (
    source      text not null,
    checksum    text not null,
    file_name   text not null,
    batch_id    text not null,
    loaded_at   timestamptz not null default now(),
    primary key (source, checksum)
);

create table if not exists ops.quarantine (
    batch_id        text not null,
    raw_table       text not null,
    row_number      bigint not null,
    record          jsonb not null,
    rule            text not null,
    reason          text not null,
    quarantined_at  timestamptz not null default now(),
    replayed_batch_id text,
    primary key (batch_id, row_number)
);

create table if not exists ops.dq_results (
    run_id           text not null,
    batch_id         text,
    suite            text not null,
    expectation      text not null,
    column_name      text,
    severity         text not null,
    success          boolean not null,
    observed_value   text,
    unexpected_count bigint,
    validated_at     timestamptz not null default now()
);

create table if not exists ops.sync_log (
    sync_id        text primary key,
    audience       text not null,
    destination    text not null,
    as_of_date     date not null,
    status         text not null,
    rows_in_audience bigint not null default 0,
    rows_added     bigint not null default 0,
    rows_updated   bigint not null default 0,
    rows_removed   bigint not null default 0,
    rows_rejected  bigint not null default 0,
    holdout_size   bigint not null default 0,
    location       text,
    started_at     timestamptz not null default now(),
    finished_at    timestamptz
);
"""


def create_tables(cur) -> None:
    cur.execute(OPS_DDL)
