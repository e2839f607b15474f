"""Where audiences go: a file drop or a marketing tool's HTTP webhook.

A destination receives batches of changes (add, update, remove; e-mail and
phone only as SHA-256 of the normalised value, as ad platforms match them) and
says which rows it rejected. Each batch carries an idempotency key: sending
the same batch twice, as a retry or a re-run after a kill, must change nothing
the second time. The file destination gets that by naming each file after its
batch; the webhook by sending the key for the tool to deduplicate on.

Webhook protocol: ``POST <url>`` with ``Idempotency-Key: <key>``, optionally
``Authorization: Bearer <token>`` (the token from the environment variable the
audience's ``token_env`` names), and the JSON body ``{"audience", "batch",
"sequence", "changes": [{"action", "customer_key", "email_sha256",
"phone_sha256"}]}``. The tool answers 2xx with ``{"rejected": [{"customer_key",
"reason"}]}`` (or no body: nothing rejected). 429 and 5xx are retried with
exponential backoff (honouring ``Retry-After``); other answers fail the sync.
"""
from __future__ import annotations

import csv
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import requests

log = logging.getLogger(__name__)
CHANGE_FIELDS = ["action", "customer_key", "email_sha256", "phone_sha256"]
RETRYABLE = {429, 500, 502, 503, 504}


class DeliveryFailed(RuntimeError):
    """The destination did not take a batch; it stays pending and is resent by the next sync."""


@dataclass(frozen=True)
class Batch:
    audience: str
    sequence: int
    idempotency_key: str
    as_of: str
    changes: list[dict]


@dataclass(frozen=True)
class Rejection:
    customer_key: str
    reason: str


class FileDestination:
    """One file per batch under ``<exports>/<audience>/``, written atomically; a
    batch written again (the same sequence) overwrites itself with the same rows."""

    def __init__(self, exports: Path, audience: str, settings: dict):
        self.folder = exports / audience
        self.format = settings.get("format", "csv")
        self.batch_size = settings.get("batch_size", 100_000)
        self.identity = f"file:{self.format}"

    def path_for(self, batch: Batch) -> Path:
        return self.folder / f"{batch.audience}_{batch.as_of}_{batch.sequence:06d}.{self.format}"

    def send(self, batch: Batch) -> list[Rejection]:
        path = self.path_for(batch)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        with tmp.open("w", newline="") as out:
            if self.format == "jsonl":
                out.writelines(json.dumps(change) + "\n" for change in batch.changes)
            else:
                writer = csv.DictWriter(out, fieldnames=CHANGE_FIELDS)
                writer.writeheader()
                writer.writerows(batch.changes)
        os.replace(tmp, path)
        return []

    def describe(self) -> str:
        return str(self.folder)


class WebhookDestination:
    def __init__(self, settings: dict, backoff_seconds: float = 1.0, timeout_seconds: float = 30.0):
        self.url = settings["url"]
        self.batch_size = settings.get("batch_size", 500)
        self.max_attempts = settings.get("max_attempts", 5)
        self.token_env = settings.get("token_env")
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds
        self.identity = f"webhook:{self.url}"

    def _headers(self, batch: Batch) -> dict:
        headers = {"Idempotency-Key": batch.idempotency_key, "Content-Type": "application/json"}
        if self.token_env:
            token = os.environ.get(self.token_env)
            if not token:
                raise DeliveryFailed(f"{self.url}: the token variable {self.token_env} is not set")
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def send(self, batch: Batch) -> list[Rejection]:
        body = json.dumps({"audience": batch.audience, "batch": batch.idempotency_key, "sequence": batch.sequence,
                           "changes": batch.changes})
        headers = self._headers(batch)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = requests.post(self.url, data=body, headers=headers, timeout=self.timeout_seconds)
            except requests.RequestException as err:
                problem, wait = f"{type(err).__name__}: {err}", None
            else:
                if response.ok:
                    answer = response.json() if response.content else {}
                    return [Rejection(str(r["customer_key"]), str(r.get("reason", ""))[:200])
                            for r in answer.get("rejected", [])]
                if response.status_code not in RETRYABLE:
                    raise DeliveryFailed(f"{self.url} refused batch {batch.sequence} of {batch.audience}:"
                                         f" HTTP {response.status_code} {response.text[:200]}")
                problem, wait = f"HTTP {response.status_code}", _retry_after(response)
            if attempt == self.max_attempts:
                raise DeliveryFailed(f"{self.url}: batch {batch.sequence} of {batch.audience} not delivered after"
                                     f" {attempt} attempts ({problem}); it is resent by the next sync")
            wait = wait if wait is not None else self.backoff_seconds * 2 ** (attempt - 1)
            log.warning("%s: %s; retrying batch %d in %.1f s", self.url, problem, batch.sequence, wait)
            time.sleep(wait)

    def describe(self) -> str:
        return self.url


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return min(float(value), 300.0) if value.replace(".", "", 1).isdigit() else None


def destination_for(audience, exports: Path):
    if audience.destination["type"] == "webhook":
        return WebhookDestination(audience.destination)
    return FileDestination(exports, audience.name, audience.destination)
