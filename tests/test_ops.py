"""What a load balancer, Prometheus and whoever reads the logs get: GET /healthz, GET /readyz (200, or
503 naming what is down), GET /metrics (only for the scraper), and one JSON log line per request
carrying the request id the answer sends back."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest
import redis
from helpers import post_form, sign_in

from aimweb import create_app

# Nothing listens on these ports of this test run's range (5120-5129): "refused" at once.
NO_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5129/nowhere"
NO_REDIS = "redis://127.0.0.1:5128/0"
REDIS = "redis://127.0.0.1:6379/2"


def bare_app(**config):
    """An app that never touched its database (its fixture would empty the tables first)."""
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret-key", "RATELIMIT_STORAGE_URI": "memory://",
                       **config})


def redis_answers() -> bool:
    try:
        return redis.Redis.from_url(REDIS, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False


# ----- /healthz and /readyz -------------------------------------------------------------------------

def test_healthz_answers_while_the_process_runs_even_with_the_database_down():
    client = bare_app(SQLALCHEMY_DATABASE_URI=NO_DATABASE).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert "Set-Cookie" not in response.headers  # cheap: no session, nothing stored


def test_readyz_is_ok_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379")
def test_readyz_is_ok_when_the_database_and_redis_answer(app, client):
    app.config["RATELIMIT_STORAGE_URI"] = REDIS  # read by the check on each call
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_answers_503_naming_the_database_when_it_is_unreachable():
    client = bare_app(SQLALCHEMY_DATABASE_URI=NO_DATABASE).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "failed": ["database"]}
    assert "5129" not in response.get_data(as_text=True)  # no address, no error text


def test_readyz_answers_503_naming_redis_when_the_rate_limit_storage_is_unreachable(database_uri):
    client = bare_app(SQLALCHEMY_DATABASE_URI=database_uri, RATELIMIT_STORAGE_URI=NO_REDIS).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "failed": ["redis"]}


def test_readyz_names_both_when_both_are_down():
    client = bare_app(SQLALCHEMY_DATABASE_URI=NO_DATABASE, RATELIMIT_STORAGE_URI=NO_REDIS).test_client()
    assert client.get("/readyz").json == {"status": "unavailable", "failed": ["database", "redis"]}


# ----- /metrics -----------------------------------------------------------------------------------

TOKEN = "scrape-token"


def scrape(client, token=TOKEN):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("app", [{"METRICS_TOKEN": "scrape-token"}], indirect=True)
def test_metrics_are_not_found_for_people_signed_in_or_not_nor_with_a_wrong_token(app, client, filer):
    assert client.get("/metrics").status_code == 404
    assert scrape(client, "wrong-token").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "scrape-token"}).status_code == 404
    sign_in(client)
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize("app", [{"METRICS_TOKEN": "scrape-token", "MAIL_KICK": "none"}], indirect=True)
def test_metrics_show_request_latency_by_endpoint_and_the_queue_depth(app, client, filer):
    sign_in(client)
    client.get("/licenses/")
    client.get("/licenses/NOSUCH1")  # a 404 is timed under its endpoint too
    post_form(app.test_client(), "/signup", {"email": "new@example.com"})  # a code mail waits in the outbox

    response = scrape(client)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    text = response.get_data(as_text=True)
    assert "# TYPE aimweb_http_request_duration_seconds histogram" in text
    assert re.search(r'aimweb_http_request_duration_seconds_bucket\{endpoint="licenses.dashboard",'
                     r'le="0.5",method="GET",status="200"\} 1.0', text)
    assert 'aimweb_http_request_duration_seconds_count{endpoint="licenses.view",method="GET",status="404"} 1.0' \
        in text
    assert 'aimweb_http_request_duration_seconds_count{endpoint="auth.sign_in",method="POST",status="302"} 1.0' \
        in text
    # One series per endpoint, never one per license number or query.
    assert "NOSUCH1" not in text
    assert "# TYPE aimweb_queue_depth gauge" in text
    assert 'aimweb_queue_depth{queue="mail"} 1.0' in text and 'aimweb_queue_depth{queue="upload"} 0.0' in text


@pytest.mark.parametrize("app", [{"METRICS_ALLOWED_NETWORKS": ["127.0.0.0/8", "::1/128"]}], indirect=True)
def test_metrics_are_open_to_a_configured_network_without_a_token(client):
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 404


def test_metrics_networks_from_the_environment_and_a_bad_one_refused_at_start(monkeypatch):
    monkeypatch.setenv("AIMWEB_METRICS_ALLOWED_NETWORKS", '["10.0.0.0/8"]')
    client = bare_app(SQLALCHEMY_DATABASE_URI=NO_DATABASE).test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is outside
    monkeypatch.setenv("AIMWEB_METRICS_ALLOWED_NETWORKS", '["10.0.0.0/33"]')
    with pytest.raises(RuntimeError, match="not a network"):
        bare_app()


def test_metrics_still_answer_without_the_queue_depth_when_the_database_is_down():
    client = bare_app(SQLALCHEMY_DATABASE_URI=NO_DATABASE, METRICS_TOKEN="scrape-token").test_client()
    client.get("/healthz")
    text = scrape(client).get_data(as_text=True)
    assert 'aimweb_http_request_duration_seconds_count{endpoint="ops.healthz",method="GET",status="200"} 1.0' in text
    assert "aimweb_queue_depth{" not in text


# ----- JSON logs with the request id -----------------------------------------------------------------

@pytest.fixture
def log_lines(app):
    """What the app's log handler (the one create_app installed on the root logger) writes."""
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, "aimweb", False)]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)


def test_each_request_logs_one_json_line_with_the_request_id_it_answers_with(client, filer, log_lines):
    sign_in(client)
    response = client.get("/licenses/?q=secret-search&status=submitted")
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    [line] = [entry for entry in log_lines() if entry.get("request_id") == request_id]
    assert line["logger"] == "aimweb.request" and line["level"] == "INFO"
    assert (line["method"], line["path"], line["endpoint"], line["status"]) == (
        "GET", "/licenses/", "licenses.dashboard", 200)
    assert line["user_id"] == filer.id and line["duration_ms"] > 0 and line["time"].endswith("+00:00")
    assert "secret-search" not in json.dumps(log_lines())  # the query string is never logged


def test_a_well_formed_incoming_request_id_is_kept_and_a_forged_one_replaced(client, log_lines):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"}).headers["X-Request-ID"] == "lb-7f3a.42"
    for forged in ('x", "status": 200', "a" * 129, "two words"):
        answered = client.get("/healthz", headers={"X-Request-ID": forged}).headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", answered)
    assert log_lines()[0]["request_id"] == "lb-7f3a.42"
    assert all(isinstance(entry["status"], int) for entry in log_lines())


def test_a_warning_written_during_a_request_carries_its_request_id(app, log_lines):
    app.config["RATELIMIT_STORAGE_URI"] = NO_REDIS
    response = app.test_client().get("/readyz", headers={"X-Request-ID": "probe-1"})
    assert response.status_code == 503
    warnings = [entry for entry in log_lines() if entry["level"] == "WARNING"]
    assert [(w["logger"], w["request_id"]) for w in warnings] == [("aimweb.ops.readiness", "probe-1")]
    assert "readiness check redis failed" in warnings[0]["message"]
