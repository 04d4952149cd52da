"""The app's own routes for operators: liveness and readiness."""

from dataclasses import replace

from tracemark import migrate
from tracemark.app import close, create_app


def test_liveness_and_readiness_on_a_current_schema(client, db):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["revision"] == migrate.head_revision()


def test_a_schema_behind_the_code_is_not_ready(settings, tmp_path):
    app = create_app(replace(settings, database_url=f"sqlite:///{tmp_path / 'new.db'}"))
    try:
        client = app.test_client()
        assert client.get("/healthz").status_code == 200  # alive, but not to be sent traffic
        answer = client.get("/readyz")
        assert (answer.status_code, answer.json["reason"]) == (503, "migrations_pending")
        migrate.migrate_to(app.extensions["tracemark.engine"])
        assert client.get("/readyz").status_code == 200
    finally:
        close(app)


def test_an_unreachable_database_is_not_ready(settings):
    gone = replace(settings, database_url="postgresql+psycopg://postgres@127.0.0.1:1/gone")
    app = create_app(gone)
    try:
        answer = app.test_client().get("/readyz")
        assert (answer.status_code, answer.json["reason"]) == (503, "database_unreachable")
    finally:
        close(app)


def test_security_headers_keep_what_a_view_set(settings):
    from flask import make_response

    app = create_app(settings)
    try:

        @app.get("/own-headers")
        def own_headers():
            response = make_response("framed")
            response.headers["X-Frame-Options"] = "SAMEORIGIN"
            response.headers["content-security-policy"] = "default-src 'self'"
            return response

        client = app.test_client()
        own = client.get("/own-headers")
        assert own.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
        assert own.headers.getlist("Content-Security-Policy") == ["default-src 'self'"]
        assert own.headers["X-Content-Type-Options"] == "nosniff"
        assert own.headers["Referrer-Policy"] == "no-referrer"
        plain = client.get("/healthz")
        assert plain.headers["X-Frame-Options"] == "DENY"
        assert plain.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert "Strict-Transport-Security" not in plain.headers
        secure = client.get("/healthz", base_url="https://localhost")
        assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        close(app)
