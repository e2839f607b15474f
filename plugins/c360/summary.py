"""The short report ``c360 run`` prints: what each stage produced for the day."""
from __future__ import annotations

from datetime import date

from c360.access import BI
from c360.config import Workspace
from c360.identity_quality import identity_quality
from c360.raw_tables import RAW_TABLES
from c360.simulator.advance import TRUTH_FILE
from c360.warehouse import Warehouse


def _rows(cur, sql: str, params=()) -> list[tuple]:
    cur.execute(sql, params)
    return cur.fetchall()


def pipeline_summary(warehouse: Warehouse, workspace: Workspace, as_of: date) -> str:
    lines = [f"c360 pipeline for {as_of}", ""]
    with warehouse.connect() as conn, conn.cursor() as cur:
        lines.append("Ingest (this day's batches: extracted = loaded + quarantined; raw total)")
        for table in RAW_TABLES:
            (extracted, loaded, quarantined, rejected), = _rows(
                cur,
                "select coalesce(sum(rows_extracted), 0), coalesce(sum(rows_loaded), 0),"
                " coalesce(sum(rows_quarantined), 0), count(*) filter (where status = 'rejected')"
                " from ops.batches where raw_table = %s and logical_date = %s",
                (table, as_of),
            )
            (total,), = _rows(cur, f"select count(*) from raw.{table}")
            if not (total or extracted):
                continue  # a channel this workspace does not have
            flag = f"  {rejected} batch(es) REJECTED" if rejected else ""
            lines.append(f"  {table:<21} {extracted:>8} = {loaded:>8} + {quarantined:>5}   raw {total:>9}{flag}")

        (customers,), = _rows(cur, "select count(*) from marts.dim_customers")
        (merged,), = _rows(cur, "select count(*) from marts.dim_customers where source_records > 1")
        lines += ["", f"Warehouse: {customers} customers ({merged} merged across sources)"]
        if (workspace.simulator / TRUTH_FILE).exists():
            lines.append(f"  identity vs the simulator's true people: {identity_quality(cur, workspace.simulator)}")
        lines.append("  RFM segments:")
        for segment, n in _rows(cur, "select rfm_segment, count(*) from marts.customer_rfm group by 1 order by 2 desc"):
            lines.append(f"    {segment:<20} {n:>7}")
        lines.append("  Lifecycle stages:")
        for stage, n in _rows(cur, "select lifecycle_stage, count(*) from marts.customer_lifecycle group by 1 order by 2 desc"):
            lines.append(f"    {stage:<20} {n:>7}")

        scores = _rows(
            cur,
            "select s.model_name, s.model_version, count(*), r.metrics->'model'->>'roc_auc'"
            " from ml.propensity_scores s join ml.model_registry r using (model_name, model_version)"
            " where s.scored_for_date = %s group by 1, 2, 4",
            (as_of,),
        )
        lines.append("")
        for name, version, n, auc in scores:
            lines.append(f"Propensity: {n} customers scored by {name} v{version} (out-of-time ROC AUC {float(auc):.3f})")
        if not scores:
            latest = _rows(cur, "select model_name, model_version, metrics from ml.model_registry"
                                " order by trained_at desc limit 1")
            for name, version, metrics in latest:
                best = max(b["roc_auc"] for b in metrics["baselines"].values())
                lines.append(f"Propensity: nobody scored; no champion yet: {name} v{version} has out-of-time ROC AUC"
                             f" {metrics['model']['roc_auc']:.3f}, not above the best baseline's {best:.3f}")
            if not latest:
                lines.append("Propensity: nobody scored; no model yet (too little history to train one:"
                             " see the propensity task log)")

        lines.append("Audiences (members, held out, +added ~updated -removed, rejected; excluded by rule):")
        for audience, members, holdout, added, updated, removed, rejected, excluded, location in _rows(
            cur,
            "select audience, rows_in_audience, holdout_size, rows_added, rows_updated, rows_removed, rows_rejected,"
            " rows_excluded, location from ops.sync_log where as_of_date = %s order by audience",
            (as_of,),
        ):
            rules = ", ".join(f"{rule} {count}" for rule, count in excluded.items() if count) or "none"
            lines.append(f"  {audience:<24} {members:>6} {holdout:>5}  +{added} ~{updated} -{removed}, {rejected}"
                         f" rejected; excluded: {rules}  {location}")

    lines += [
        "",
        "Look next:",
        f"  query the marts:   psql \"{warehouse.as_role(BI).params.uri()}\" -c 'select * from marts.customer_rfm limit 10'",
        f"  as the admin:      psql \"{warehouse.params.uri()}\"   (who may read what: c360 warehouse roles)",
        "  Airflow UI:        c360 ui   (then http://localhost:8080)",
        "  quarantined rows:  c360 quarantine list   (replay: c360 quarantine replay);"
        "   batch counts: select * from ops.batches;",
        f"  data quality:      {workspace.quality_docs / 'index.html'}   (GX Data Docs of the day's validations)",
        f"  task logs:         {workspace.home / 'logs'}",
    ]
    return "\n".join(lines)
