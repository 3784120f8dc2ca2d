"""JSON logs with request ids, and the health checks."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pymongo
import pytest

from app import create_app
from config import ConfigError, load_settings
from routes import health
from tests.api.http_checks import (
    database_down_app,
    untouchable_database_config,
)
from tests.helpers import PASSWORD, sign_up
from web import logs

# Logs ------------------------------------------------------------------------------------------


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Return every line written to stderr so far, each parsed as JSON."""
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_each_request_is_logged_as_one_json_access_line(client, capsys):
    capsys.readouterr()

    response = client.get("/nowhere", headers={"X-Request-ID": "log-test-1"})

    assert response.status_code == 404
    assert response.json["error"] == "Not Found"
    access = [line for line in log_lines(capsys) if line["logger"] == "access"]
    assert len(access) == 1
    assert access[0]["request_id"] == "log-test-1"
    assert access[0]["level"] == "INFO"
    assert access[0]["message"] == "GET /nowhere 404"
    assert {key: access[0][key] for key in ("method", "path", "status", "remote_addr")} == {
        "method": "GET",
        "path": "/nowhere",
        "status": 404,
        "remote_addr": "127.0.0.1",
    }
    assert access[0]["duration_ms"] >= 0
    assert access[0]["time"].endswith("+00:00")


def test_a_line_logged_while_serving_a_request_carries_its_request_id(make_app, capsys):
    app = make_app()

    def noisy() -> str:
        logging.getLogger("test.noisy").warning("something worth knowing")
        return "done"

    app.add_url_rule("/noisy", view_func=noisy)
    capsys.readouterr()

    response = app.test_client().get("/noisy", headers={"X-Request-ID": "log-test-2"})

    assert response.status_code == 200
    assert response.data == b"done"
    [line] = [line for line in log_lines(capsys) if line["logger"] == "test.noisy"]
    assert line == {
        "time": line["time"],
        "level": "WARNING",
        "logger": "test.noisy",
        "message": "something worth knowing",
        "request_id": "log-test-2",
    }


def test_an_unexpected_error_is_logged_in_json_with_its_traceback(make_app, capsys):
    app = make_app()

    def broken() -> None:
        raise RuntimeError("boom")

    app.add_url_rule("/broken", view_func=broken)
    capsys.readouterr()

    response = app.test_client().get("/broken", headers={"X-Request-ID": "log-test-3"})

    assert response.status_code == 500
    assert response.json["message"] == "Something went wrong"
    [line] = [line for line in log_lines(capsys) if line["level"] == "ERROR"]
    assert line["request_id"] == "log-test-3"
    assert "RuntimeError: boom" in line["exception"]


def test_the_access_line_never_holds_the_query_string(client, capsys):
    capsys.readouterr()

    response = client.get("/health?token=query-secret&password=hunter2")

    assert response.status_code == 200
    assert response.json["message"] == "ok"
    output = capsys.readouterr().err
    assert '"path": "/health"' in output
    assert "query-secret" not in output
    assert "hunter2" not in output


def test_logs_hold_no_password_and_no_token(client, capsys):
    capsys.readouterr()
    sign_up(client, "ada@example.com")
    login = client.post("/users/login", json={"email": "ada@example.com", "password": PASSWORD})
    token, refresh = login.json["data"]["token"], login.json["data"]["refresh_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    client.get("/users/", headers=bearer)
    client.get(f"/books/?token={token}", headers={"Authorization": "Bearer not-a-token"})
    refreshed = client.post("/users/token/refresh", json={"refresh_token": refresh})
    client.post("/users/login", json={"email": "ada@example.com", "password": "Wrong-Horse-9"})

    assert refreshed.status_code == 200
    output = capsys.readouterr().err
    lines = [json.loads(line) for line in output.splitlines()]
    assert len([line for line in lines if line["logger"] == "access"]) == 6
    for secret in (PASSWORD, "Wrong-Horse-9", token, refresh, refreshed.json["data"]["token"]):
        assert secret not in output
    assert "Bearer" not in output
    assert "not-a-token" not in output


def test_redaction_hides_credentials_written_by_libraries():
    record = logging.LogRecord(
        "gunicorn.error",
        logging.WARNING,
        __file__,
        1,
        "Invalid request line 'GET /x?token=%s&page=2 HTTP/1.1' (Authorization: Bearer %s)",
        ("abc.def", "eyJhbGciOi.x.y"),
        None,
    )

    line = json.loads(logs.JsonFormatter().format(record))

    assert line["message"] == (
        "Invalid request line 'GET /x?token=[redacted]&page=2 HTTP/1.1' "
        "(Authorization: Bearer [redacted])"
    )
    assert line["request_id"] is None


def test_the_access_log_can_be_turned_off(make_app, capsys):
    client = make_app(ACCESS_LOG=False).test_client()
    capsys.readouterr()

    response = client.get("/health")

    assert response.status_code == 200
    assert response.json["message"] == "ok"
    assert [line for line in log_lines(capsys) if line["logger"] == "access"] == []


def test_creating_many_apps_installs_one_log_handler(make_app):
    for _ in range(3):
        make_app()

    marked = [h for h in logging.getLogger().handlers if getattr(h, logs.HANDLER_MARK, False)]
    assert len(marked) == 1


def test_log_level_comes_from_the_settings(make_app, capsys):
    root = logging.getLogger()
    level_before = root.level
    try:
        client = make_app(LOG_LEVEL="warning").test_client()
        capsys.readouterr()

        response = client.get("/health")

        assert response.status_code == 200
        assert response.json["message"] == "ok"
        assert log_lines(capsys) == []
        assert root.level == logging.WARNING
    finally:
        root.setLevel(level_before)


def test_unknown_log_level_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match="LOG_LEVEL must be"):
        create_app(untouchable_database_config(tmp_path, LOG_LEVEL="chatty"))


def test_dev_server_request_lines_are_dropped_but_its_other_lines_kept():
    werkzeug_logger = logging.getLogger("werkzeug")
    request_line = werkzeug_logger.makeRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '127.0.0.1 - - [28/Nov/2026 10:00:00] "GET /x?token=abc HTTP/1.1" 200 -',
        (),
        None,
    )
    banner = werkzeug_logger.makeRecord(
        "werkzeug", logging.INFO, __file__, 1, " * Running on http://127.0.0.1:5000", (), None
    )

    assert logs._drop_dev_server_request_lines(request_line) is False
    assert logs._drop_dev_server_request_lines(banner) is True


# Health checks ---------------------------------------------------------------------------------


def test_health_answers_ok_without_a_token(client):
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json == {"message": "ok", "data": {"status": "ok"}}


def test_health_answers_ok_while_the_database_is_down(make_app):
    client = database_down_app(make_app).test_client()

    response = client.get("/health")

    assert response.status_code == 200
    assert response.json == {"message": "ok", "data": {"status": "ok"}}


def test_ready_answers_ready_when_the_database_answers(client):
    response = client.get("/ready")

    assert response.status_code == 200
    assert response.json == {
        "message": "ready",
        "data": {"status": "ready", "database": "ok", "degraded": []},
    }


def test_ready_answers_503_with_retry_after_when_the_database_is_down(make_app):
    client = database_down_app(make_app).test_client()

    response = client.get("/ready")

    assert response.status_code == 503
    assert response.json == {
        "message": "database unreachable",
        "data": None,
        "error": "Service Unavailable",
    }
    assert response.headers["Retry-After"] == "5"


def test_ready_waits_its_own_short_timeout_not_the_database_timeout(make_app, monkeypatch):
    app = database_down_app(make_app, READY_TIMEOUT_MS=150)
    # The client is built on first use: a request waiting on this would take a minute.
    app.config["DB_TIMEOUT_MS"] = 60_000
    timeouts: list[float] = []
    real_timeout = pymongo.timeout

    def recording_timeout(seconds: float) -> Any:
        timeouts.append(seconds)
        return real_timeout(seconds)

    monkeypatch.setattr(health.pymongo, "timeout", recording_timeout)
    started = time.perf_counter()

    response = app.test_client().get("/ready")

    print(f"/ready with the database down answered in {time.perf_counter() - started:.3f} s")
    assert response.status_code == 503
    assert response.json["message"] == "database unreachable"
    assert timeouts == [0.15]


def test_health_checks_are_not_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGNUP_PER_ADDRESS="1 per minute")
    client = app.test_client()
    sign_up(client, "ada@example.com")
    body = {"name": "Grace Hopper", "email": "grace@example.com", "password": PASSWORD}
    assert client.post("/users/", json=body).status_code == 429

    answers = [client.get(path) for path in ("/health", "/ready") * 5]

    assert [answer.status_code for answer in answers] == [200] * 10
    assert answers[-1].json["message"] == "ready"


def test_ready_timeout_must_be_a_positive_number_of_milliseconds():
    with pytest.raises(ConfigError, match="READY_TIMEOUT_MS must be at least 1"):
        load_settings({"READY_TIMEOUT_MS": "0"})
