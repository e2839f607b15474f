"""A small JSON-over-HTTP client with retries, for channel APIs."""
from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request

log = logging.getLogger(__name__)
RETRYABLE = {429, 500, 502, 503, 504}


class ApiError(RuntimeError):
    pass


def get_json(url: str, params: dict, headers: dict, retries: int = 5, backoff: float = 0.5,
             timeout: float = 30.0, sleep=time.sleep) -> dict:
    """GET a JSON document; retry 429 and 5xx with exponential backoff, honouring Retry-After."""
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    request = urllib.request.Request(f"{url}?{query}" if query else url, headers=headers)
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as err:
            body = err.read().decode("utf-8", "replace")[:300]
            if err.code not in RETRYABLE or attempt == retries:
                raise ApiError(f"GET {url} failed with HTTP {err.code} after {attempt + 1} attempt(s): {body}") from err
            retry_after = err.headers.get("Retry-After")
            delay = float(retry_after) if retry_after and retry_after.isdigit() else backoff * 2 ** attempt
            log.warning("GET %s: HTTP %s, retrying in %.1fs", url, err.code, delay)
            sleep(delay)
        except urllib.error.URLError as err:
            if attempt == retries:
                raise ApiError(f"GET {url} unreachable after {attempt + 1} attempt(s): {err.reason}") from err
            sleep(backoff * 2 ** attempt)
    raise AssertionError("unreachable")
