"""DDL of the tables c360 writes itself (dbt's are in ``dbt_project``), created by
the warehouse bootstrap as the admin so every part finds them and the grants in
``c360.access`` apply.

``ops`` is the pipeline's own bookkeeping: every batch is accounted for there
(extracted = loaded + quarantined), next to the watermarks and file manifest
that make extraction incremental, the quarantined rows with their reasons,
data-quality results and sync logs.
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

-- one row per suite validated: the day it was for and GX's whole result (what Data Docs render)
create table if not exists ops.dq_runs (
    run_id       text not null,
    suite        text not null,
    batch_id     text,
    as_of_date   date not null,
    success      boolean not null,
    seconds      double precision,
    result       jsonb not null,
    validated_at timestamptz not null default now(),
    primary key (run_id, suite)
);
create index if not exists dq_runs__day on ops.dq_runs (as_of_date, suite);

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
-- people the contact rules kept out of the audience, by rule (opted_out, suppressed, paused, capped...)
alter table ops.sync_log add column if not exists rows_excluded jsonb not null default '{}';
"""


# Models and their scores: ml.model_registry is the registry of ml/registry.py.
ML_DDL = """
create table if not exists ml.model_registry (
    model_name      text not null,
    model_version   text not null,
    trained_at      timestamptz not null default now(),
    train_from      date,
    train_as_of     date not null,
    validation_as_of date not null,
    horizon_days    integer not null,
    features        jsonb not null,
    metrics         jsonb not null,
    library_versions jsonb not null,
    artifact_path   text not null,
    artifact_sha256 text not null,
    is_champion     boolean not null default false,
    primary key (model_name, model_version)
);
create table if not exists ml.propensity_scores (
    customer_key    text not null,
    model_name      text not null,
    model_version   text not null,
    scored_for_date date not null,
    score           double precision not null check (score between 0 and 1),
    score_decile    integer not null check (score_decile between 1 and 10),
    scored_at       timestamptz not null default now(),
    primary key (model_name, scored_for_date, customer_key)
);
alter table ml.model_registry add column if not exists train_from date;
-- one row per model and scored date: how many were scored, and the drift of the scores against training
create table if not exists ml.scoring_runs (
    model_name      text not null,
    scored_for_date date not null,
    model_version   text not null,
    customers       bigint not null,
    psi             double precision,
    drifted         boolean not null,
    scored_at       timestamptz not null default now(),
    primary key (model_name, scored_for_date)
);
"""

# Activation's own state. audience_members: who was in each audience on each
# sync date, synced or held out. audience_entries: each person's first sync date
# in each audience and whether they were held out that day, kept by the sync
# (marts.audience_uplift reads it, not every day's members). destination_state:
# what each destination holds, as acknowledged by it; a sync sends the difference.
# sync_batches: every batch sent, written before it is sent, so a killed sync
# resends an unacknowledged batch under the same idempotency key. contacts: each
# delivered add, counted by the contact cap. suppressions: never contact these.
ACTIVATION_DDL = """
create table if not exists activation.audience_members (
    audience       text not null,
    as_of_date     date not null,
    customer_key   text not null,
    is_holdout     boolean not null,
    email_sha256   text,
    phone_sha256   text,
    primary key (audience, as_of_date, customer_key)
);
create table if not exists activation.audience_entries (
    audience       text not null,
    customer_key   text not null,
    entered_on     date not null,
    is_holdout     boolean not null,
    primary key (audience, customer_key)
);
create table if not exists activation.destination_state (
    audience       text not null,
    destination    text not null,
    customer_key   text not null,
    email_sha256   text,
    phone_sha256   text,
    synced_on      date not null,
    primary key (audience, destination, customer_key)
);
create table if not exists activation.sync_batches (
    audience        text not null,
    destination     text not null,
    sequence        bigint not null,
    idempotency_key text not null unique,
    as_of_date      date not null,
    changes         jsonb not null,
    status          text not null check (status in ('pending', 'delivered')),
    rejected        jsonb not null default '[]',
    attempts        integer not null default 0,
    created_at      timestamptz not null default now(),
    delivered_at    timestamptz,
    primary key (audience, destination, sequence)
);
create table if not exists activation.contacts (
    customer_key   text not null,
    audience       text not null,
    contacted_on   date not null,
    primary key (customer_key, audience, contacted_on)
);
create table if not exists activation.suppressions (
    kind           text not null check (kind in ('customer_key', 'email_sha256', 'phone_sha256')),
    value          text not null,
    reason         text not null,
    added_at       timestamptz not null default now(),
    primary key (kind, value)
);
"""


def audience_entries_from_members(where: str) -> str:
    """The entries of the members `where` selects: each person's first day in the audience."""
    return ("select distinct on (audience, customer_key) audience, customer_key, as_of_date, is_holdout"
            f" from activation.audience_members where {where} order by audience, customer_key, as_of_date")


def create_tables(cur) -> None:
    for ddl in (OPS_DDL, ML_DDL, ACTIVATION_DDL):
        cur.execute(ddl)
    # a warehouse whose syncs predate audience_entries: its entries from the members, once
    cur.execute("insert into activation.audience_entries "
                + audience_entries_from_members("not exists (select from activation.audience_entries)"))
