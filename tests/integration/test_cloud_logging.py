"""LOG_FORMAT=json under gunicorn, as on Cloud Run: every line the server
writes, gunicorn's own from the master's first on, is one JSON object."""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.instances import SHIPPED_CONF, instance
from tests.support.settings import LOG_DIR, PROJECT_ID, base_config

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.long
def test_every_line_under_gunicorn_is_json_with_the_requests_trace(clean):
    config = base_config(LOG_FORMAT="json")
    with instance(config, LOG_DIR, (*SHIPPED_CONF, "--workers=1")) as server:
        response = requests.get(
            f"{server.url}/healthz?token=not-for-logs",
            headers={"X-Cloud-Trace-Context": f"{TRACE_ID}/1;o=1"},
            timeout=10,
        )
        assert response.status_code == 200
        requests.get(f"{server.url}/admin/login", timeout=10)
    output = server.output()

    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert all({"severity", "message"} <= line.keys() for line in lines)
    assert any(
        line["logger"] == "gunicorn.error" and "Booting worker" in line["message"] for line in lines
    )
    # The start-up wait polls /healthz too (as often as a loaded machine
    # needs); ours is the one that carried the trace header.
    traced = [line for line in lines if "logging.googleapis.com/trace" in line]
    [health] = [line for line in traced if line["httpRequest"]["requestUrl"] == "/healthz"]
    assert health["logging.googleapis.com/trace"] == f"projects/{PROJECT_ID}/traces/{TRACE_ID}"
    assert health["httpRequest"]["status"] == 200
    assert "not-for-logs" not in output
