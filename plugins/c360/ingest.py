"""Ingest one channel for an as-of date: what the ingest DAG's tasks call."""
from __future__ import annotations

import logging
from datetime import date

from c360.access import LOADER
from c360.config import Workspace
from c360.extract.files import FILE_CHANNELS, extract_files
from c360.extract.imported import extract_import
from c360.extract.shop import extract_shop
from c360.extract.social import extract_social
from c360.loader import BatchResult
from c360.sources import file_landing, load_sources, shop_dsn, social_api
from c360.warehouse import open_warehouse

log = logging.getLogger(__name__)


def ingest_channel(channel: str, as_of: date, workspace: Workspace | None = None) -> list[BatchResult]:
    workspace = workspace or Workspace.from_env()
    sources = load_sources(workspace)
    if channel not in sources:
        log.info("%s: not a source of this workspace (%s); nothing to ingest", channel, workspace.sources_file)
        return []
    admin = open_warehouse(workspace)
    warehouse = admin.as_role(LOADER)
    if channel == "imports":
        results = [extract_import(warehouse, spec, as_of) for spec in sources["imports"].values()]
    elif channel == "shop":
        results = extract_shop(warehouse, shop_dsn(workspace, admin), as_of)
    elif channel in FILE_CHANNELS:
        results = extract_files(warehouse, channel, file_landing(workspace, channel), as_of)
    elif channel == "social":
        with social_api(workspace) as (base_url, token):
            results = extract_social(warehouse, base_url, token, as_of)
    else:
        raise ValueError(f"unknown channel {channel!r}")
    for r in results:
        log.info("%s: %s extracted=%d loaded=%d quarantined=%d", r.batch_id, r.status, r.rows_extracted,
                 r.rows_loaded, r.rows_quarantined)
    return results


def summarize(results: list[BatchResult]) -> dict:
    """Counts for XCom and the run summary (extracted = loaded + quarantined)."""
    return {
        "batches": len(results),
        "extracted": sum(r.rows_extracted for r in results),
        "loaded": sum(r.rows_loaded for r in results),
        "quarantined": sum(r.rows_quarantined for r in results),
    }
