"""App factory, configuration, health, version, headers, error pages and request logs."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy.engine import make_url

from core import create_app
from core.config import ConfigError, load_config


def test_testing_profile(app):
    assert app.config["HARMONY_ENV"] == "testing"
    assert app.config["SESSION_IDLE_MINUTES"] == 120
    assert app.config["SESSION_ABSOLUTE_HOURS"] == 12


def test_default_database_is_a_sqlite_file_under_instance(tmp_path):
    config = load_config(tmp_path, {"HARMONY_ENV": "development"})
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'harmony.sqlite3'}"
    # development gets a persistent random secret key, kept private in instance/
    assert len(config["SECRET_KEY"]) >= 32
    assert load_config(tmp_path, {})["SECRET_KEY"] == config["SECRET_KEY"]
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("secret", [None, "", "dev", "change-me", "short-but-not-default"])
def test_production_refuses_a_missing_or_weak_secret_key(tmp_path, secret):
    env = {
        "HARMONY_ENV": "production",
        "TRUSTED_HOSTS": "catalogue.example.org",
        "BASE_URL": "https://catalogue.example.org",
    }
    if secret is not None:
        env["SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(env=env)


def test_production_needs_trusted_hosts(tmp_path):
    with pytest.raises(ConfigError, match="TRUSTED_HOSTS"):
        load_config(tmp_path, {"HARMONY_ENV": "production", "SECRET_KEY": "x" * 48})


@pytest.mark.parametrize("base_url", [None, "http://catalogue.example.org"])
def test_production_needs_an_https_base_url_for_stable_iris(tmp_path, base_url):
    env = {
        "HARMONY_ENV": "production",
        "SECRET_KEY": "x" * 48,
        "TRUSTED_HOSTS": "catalogue.example.org",
    }
    if base_url:
        env["BASE_URL"] = base_url
    with pytest.raises(ConfigError, match="BASE_URL"):
        load_config(tmp_path, env)
    env["BASE_URL"] = "https://catalogue.example.org/"
    assert load_config(tmp_path, env)["BASE_URL"] == "https://catalogue.example.org"


def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="HARMONY_ENV"):
        load_config(tmp_path, {"HARMONY_ENV": "staging"})


def test_malformed_number_is_named(tmp_path):
    with pytest.raises(ConfigError, match="SESSION_IDLE_MINUTES"):
        load_config(tmp_path, {"SESSION_IDLE_MINUTES": "two hours"})


def test_settings_come_from_the_environment(tmp_path):
    config = load_config(
        tmp_path,
        {
            "SESSION_IDLE_MINUTES": "30",
            "SESSION_ABSOLUTE_HOURS": "8",
            "MAX_UPLOAD_MB": "5",
            "DATABASE_URL": "postgresql+psycopg://u@db/harmony",
            "MAIL_SERVER": "smtp.example.org",
        },
    )
    assert config["SESSION_IDLE_MINUTES"] == 30
    assert config["PERMANENT_SESSION_LIFETIME"] == 8 * 3600
    assert config["MAX_CONTENT_LENGTH"] == 5 * 1024 * 1024
    assert config["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert config["MAIL_SERVER"] == "smtp.example.org"


@pytest.fixture
def production_app(database_url):
    return create_app(
        {"DATABASE_URL": database_url},
        env={
            "HARMONY_ENV": "production",
            "SECRET_KEY": "p" * 48,
            "TRUSTED_HOSTS": "catalogue.example.org",
            "BASE_URL": "https://catalogue.example.org/",
        },
    )


def test_production_sends_hsts_and_secure_cookies(production_app):
    client = production_app.test_client()
    response = client.get("/healthz", headers={"Host": "catalogue.example.org"})
    assert response.status_code == 200
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    assert production_app.config["SESSION_COOKIE_SECURE"] is True


def test_production_rejects_a_forged_host_header(production_app):
    client = production_app.test_client()
    response = client.get("/login", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "evil.example" not in response.get_data(as_text=True)


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_down(database_url, tmp_path):
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        broken = f"sqlite:///{tmp_path / 'missing' / 'nowhere.sqlite3'}"
    else:
        broken = url.set(port=1).render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": broken}, env={"HARMONY_ENV": "testing"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert "Traceback" not in response.get_data(as_text=True)


def test_version(client):
    body = client.get("/api/v1/version").json
    assert body["name"] == "HARMONY Catalogue" and body["api"] == "v1"
    assert body["version"].count(".") == 2


def test_security_headers_on_every_response(client):
    for path in ("/", "/login", "/api/v1/version", "/no-such-page", "/api/v1/nothing-here"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert (
            "script-src 'self'" in csp
            and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        )
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers  # only in production


def test_pages_have_no_inline_scripts(client):
    html = client.get("/").get_data(as_text=True)
    assert "<script>" not in html and "onclick=" not in html


def test_unknown_api_path_is_problem_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == 404 and body["title"] == "Not found" and body["type"]


def test_unknown_page_is_an_html_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Not found" in response.get_data(as_text=True)


def test_wrong_method_is_405_with_allow(client):
    response = client.put("/api/v1/version")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_request_id_is_echoed_and_logged(client, caplog):
    with caplog.at_level(logging.INFO, logger="harmony.access"):
        response = client.get("/api/v1/version", headers={"X-Request-ID": "abc12345-req"})
    assert response.headers["X-Request-ID"] == "abc12345-req"
    record = next(r for r in caplog.records if r.name == "harmony.access")
    assert record.request_id == "abc12345-req"
    assert record.method == "GET" and record.path == "/api/v1/version" and record.status == 200
    assert record.duration_ms >= 0 and record.user_id is None


def test_log_lines_are_json(client, make, caplog):
    from core.security import JsonLogFormatter

    with caplog.at_level(logging.INFO, logger="harmony.access"):
        client.get("/healthz")
    line = JsonLogFormatter().format(caplog.records[-1])
    entry = json.loads(line)
    assert {"request_id", "method", "path", "status", "duration_ms", "user_id"} <= entry.keys()


def test_a_forged_request_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert response.headers["X-Request-ID"] != "<script>alert(1)</script>"
    assert len(response.headers["X-Request-ID"]) == 32


def test_unexpected_errors_show_no_stack_trace(database_url, caplog):
    app = create_app({"DATABASE_URL": database_url}, env={"HARMONY_ENV": "testing"})

    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    @app.get("/boom")
    def boom_page():
        raise RuntimeError("secret internals: password=hunter2")

    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="harmony.errors"):
        api = client.get("/api/v1/boom")
        page = client.get("/boom")
    assert api.status_code == page.status_code == 500
    assert api.mimetype == "application/problem+json"
    for response in (api, page):
        text = response.get_data(as_text=True)
        assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert any("hunter2" in (r.exc_text or "") or r.exc_info for r in caplog.records)
