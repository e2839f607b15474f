"""The social platform's JSON API, served from its store over HTTP.

    GET /v1/followers?cursor=&limit=&until=   profiles changed after the cursor, by (updated_at, openid)
    GET /v1/events?cursor=&limit=&until=      events after the cursor, by event_id

Every request needs ``Authorization: Bearer <token>``. A page is
``{"data": [...], "next_cursor": str | null, "resume_cursor": str | null}``:
``next_cursor`` fetches the next page and is null once the listing is
exhausted; ``resume_cursor`` is the position after the page's last item (the
request's cursor when the page is empty), for a client to keep as its
watermark and resume from later. Cursors are opaque to clients.

SocialApi answers a request without any HTTP, so rate limits or injected
faults can later wrap ``SocialApi.handle``; the HTTP handler only translates.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import sqlite3
import threading
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

from c360.simulator.social import EVENT_COLUMNS, FOLLOWER_COLUMNS, open_store, store_path

log = logging.getLogger(__name__)

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Listing:
    """One paged collection: its columns, its order, and how a position is written in a cursor."""

    kind: str
    columns: list[str]
    position: list[str]  # the ordering columns; the cursor holds their values for the last item
    time_column: str  # compared with `until`
    table: str

    def page(self, conn: sqlite3.Connection, after: list | None, limit: int, until: str) -> list[dict]:
        order = ", ".join(self.position)
        where = [f"{self.time_column} <= ?"]
        params: list = [until]
        if after is not None:
            where.append(f"({order}) > ({', '.join('?' * len(after))})")
            params += after
        sql = (f"select {', '.join(self.columns)} from {self.table} where {' and '.join(where)}"
               f" order by {order} limit ?")
        rows = conn.execute(sql, [*params, limit]).fetchall()
        return [dict(zip(self.columns, row)) for row in rows]

    def encode(self, item: dict) -> str:
        raw = json.dumps({"k": self.kind, "p": [item[c] for c in self.position]}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> list:
        try:
            raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            position = raw["p"]
            valid = (raw["k"] == self.kind and isinstance(position, list) and len(position) == len(self.position)
                     and all(isinstance(value, (str, int)) for value in position))
        except (binascii.Error, ValueError, UnicodeDecodeError, KeyError, TypeError):
            valid = False
        if not valid:
            raise ApiError(400, f"cursor is not a valid {self.kind} cursor")
        return position


LISTINGS = {
    "/v1/followers": Listing("followers", FOLLOWER_COLUMNS, ["updated_at", "openid"], "updated_at", "followers"),
    "/v1/events": Listing("events", EVENT_COLUMNS, ["event_id"], "occurred_at", "events"),
}


def _single(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if values is None:
        return None
    if len(values) != 1:
        raise ApiError(400, f"give {name} at most once")
    return values[0]


def _parse_limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_LIMIT:
        raise ApiError(400, f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(value)


def _parse_until(value: str | None) -> str:
    """As stored text ('...Z', whole seconds), so it compares as text; no until = no bound."""
    if value is None:
        return "9999-12-31T23:59:59Z"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "until must be an ISO-8601 timestamp (URL-encode a '+' offset)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SocialApi:
    def __init__(self, store: Path, token: str):
        self.store = store
        self.token = token

    def handle(self, method: str, target: str, authorization: str | None) -> tuple[int, dict]:
        """(status, JSON body) for one request."""
        try:
            if not hmac.compare_digest((authorization or "").encode(), f"Bearer {self.token}".encode()):
                raise ApiError(401, "missing or invalid bearer token")
            url = urlsplit(target)
            listing = LISTINGS.get(url.path.rstrip("/"))
            if listing is None:
                raise ApiError(404, f"no such resource: {url.path}")
            if method != "GET":
                raise ApiError(405, f"{method} is not allowed here")
            return 200, self._page(listing, parse_qs(url.query, keep_blank_values=True))
        except ApiError as error:
            return error.status, {"error": str(error), "status": error.status}

    def _page(self, listing: Listing, query: dict[str, list[str]]) -> dict:
        unknown = sorted(set(query) - {"cursor", "limit", "until"})
        if unknown:
            raise ApiError(400, f"unknown parameters: {', '.join(unknown)}")
        cursor = _single(query, "cursor")
        after = listing.decode(cursor) if cursor else None
        limit = _parse_limit(_single(query, "limit"))
        until = _parse_until(_single(query, "until"))
        with closing(sqlite3.connect(self.store.as_uri() + "?mode=ro", uri=True)) as conn:
            # one extra row tells whether another page exists
            rows = listing.page(conn, after, limit + 1, until)
        data = rows[:limit]
        resume = listing.encode(data[-1]) if data else cursor or None
        return {"data": data, "next_cursor": resume if len(rows) > limit else None, "resume_cursor": resume}


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def _serve(self) -> None:
        try:
            status, body = self.server.api.handle(self.command, self.path, self.headers.get("Authorization"))
        except Exception:  # a client should see a 500, not a dropped connection
            log.exception("social API request failed: %s %s", self.command, self.path)
            status, body = 500, {"error": "internal error", "status": 500}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args) -> None:  # keep test and task logs quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, api: SocialApi):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api


@contextmanager
def serve_social_api(state_dir: Path, token: str) -> Iterator[str]:
    """Serve the simulated social platform's JSON API on 127.0.0.1 (ephemeral port);
    yields its base URL like 'http://127.0.0.1:PORT'; shuts down on exit."""
    path = store_path(Path(state_dir).resolve())
    open_store(path).close()  # an empty platform before the first advance
    server = _Server(SocialApi(path, token))
    thread = threading.Thread(target=server.serve_forever, name="social-api", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
