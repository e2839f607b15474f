"""GX Data Docs of a day's validations: a static site in the workspace.

Every validation keeps GX's whole result in ``ops.dq_runs`` (without row lists
or samples of personal columns), so the site is rebuilt from the warehouse by
one process after a run, whichever workers validated: raw batches, marts and
scores of the day, each a page, and an index of them all.
"""
from __future__ import annotations

import logging
import shutil
from datetime import date
from pathlib import Path

from c360.config import Workspace
from c360.warehouse import Warehouse

SITE = "c360"


def build_data_docs(warehouse: Warehouse, workspace: Workspace, as_of: date) -> Path:
    """Rebuild the site from the day's validations; return its index page."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier, ValidationResultIdentifier)

    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # not its set-up chatter in the run's output
    site = workspace.quality_docs
    shutil.rmtree(site, ignore_errors=True)  # the day's validations only
    context = gx.get_context(mode="ephemeral")
    context.add_data_docs_site(SITE, {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    store = context.validation_results_store
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("select run_id, suite, batch_id, validated_at, result from ops.dq_runs where as_of_date = %s",
                    (as_of,))
        for run_id, suite, batch_id, validated_at, result in cur:
            key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name=suite),
                                             RunIdentifier(run_name=run_id, run_time=validated_at),
                                             batch_id or suite)
            store.set(key, store.deserialize(result))
    context.build_data_docs(site_names=[SITE])
    return site / "index.html"
