"""A small marketing tool of our own for tests: the audience webhook that
``c360.activation.destinations.WebhookDestination`` speaks, on real HTTP on
localhost. It applies each batch once per idempotency key (a repeated key gets
the first answer back, as real tools do), keeps every audience's members, and
fails on demand: queued error statuses, rows to reject, a wrong token, or a
pause after applying a batch and before answering (where a sync gets killed).
"""
from __future__ import annotations

import json
import threading
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class MarketingTool:
    def __init__(self, token: str | None = None):
        self.token = token
        self.members: dict[str, dict[str, tuple]] = {}  # audience -> customer_key -> (email, phone)
        self.applied = Counter()  # (audience, action, customer_key) -> times applied
        self.answers: dict[str, dict] = {}  # idempotency key -> the answer given
        self.requests = 0
        self.replays = 0  # requests whose key had been applied already
        self.fail_with: deque[tuple[int, dict]] = deque()  # (status, headers) answered before applying anything
        self.reject: set[str] = set()  # customer keys refused (not applied, reported back)
        self.hold_after = None  # applied batch count after which answering waits for `release`
        self.held = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_port}/audiences"

    def __enter__(self) -> "MarketingTool":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _apply(self, batch: dict) -> dict:
        members = self.members.setdefault(batch["audience"], {})
        rejected = []
        for change in batch["changes"]:
            key = change["customer_key"]
            if key in self.reject:
                rejected.append({"customer_key": key, "reason": "no matching user"})
                continue
            self.applied[(batch["audience"], change["action"], key)] += 1
            if change["action"] == "remove":
                members.pop(key, None)
            else:
                members[key] = (change["email_sha256"], change["phone_sha256"])
        return {"rejected": rejected}

    def _handler(self):
        tool = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, body: dict | None = None, headers: dict | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                batch = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get("Idempotency-Key")
                with tool._lock:
                    tool.requests += 1
                    if tool.token and self.headers.get("Authorization") != f"Bearer {tool.token}":
                        return self._answer(401, {"error": "bad token"})
                    if tool.fail_with:
                        status, headers = tool.fail_with.popleft()
                        return self._answer(status, {"error": "try later"}, headers)
                    if not key:
                        return self._answer(400, {"error": "Idempotency-Key required"})
                    if key in tool.answers:
                        tool.replays += 1
                        return self._answer(200, tool.answers[key])
                    tool.answers[key] = answer = tool._apply(batch)
                    hold = tool.hold_after is not None and len(tool.answers) >= tool.hold_after
                if hold:  # applied, not yet answered: the moment a client may die
                    tool.held.set()
                    tool.release.wait()
                self._answer(200, answer)

        return Handler
