"""The API client against a real HTTP server on localhost that fails on demand."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from c360.extract.http import ApiError, get_json


@pytest.fixture
def server():
    script = []  # responses to give, in order: (status, headers)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            status, headers = script.pop(0) if script else (200, {})
            body = json.dumps({"path": self.path} if status == 200 else {"error": status}).encode()
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    httpd.shutdown()
    httpd.server_close()


def test_retries_5xx_with_backoff_and_honours_retry_after(server):
    url, script = server
    script += [(503, {}), (429, {"Retry-After": "3"}), (200, {})]
    waits = []
    body = get_json(url + "/v1/events", {"cursor": "abc", "limit": 2}, {}, sleep=waits.append, backoff=0.5)
    assert body["path"] == "/v1/events?cursor=abc&limit=2"
    assert waits == [0.5, 3.0]


def test_client_errors_are_not_retried(server):
    url, script = server
    script += [(401, {}), (200, {})]
    waits = []
    with pytest.raises(ApiError, match="HTTP 401 after 1 attempt"):
        get_json(url, {}, {}, sleep=waits.append)
    assert waits == []


def test_a_source_that_stays_down_fails_clearly(server):
    url, script = server
    script += [(503, {})] * 4
    with pytest.raises(ApiError, match="HTTP 503 after 4 attempt"):
        get_json(url, {}, {}, retries=3, sleep=lambda s: None)


def test_unreachable_server_fails_clearly():
    with pytest.raises(ApiError, match="unreachable after 2 attempt"):
        get_json("http://127.0.0.1:9", {}, {}, retries=1, sleep=lambda s: None, timeout=2)
