"""Who may call the integration API: tokens, their brand, their scopes, their budget; and
how hostile requests are answered (JSON errors with stable codes, never a 500)."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from tests.helpers.api import bearer
from tracemark.accounts import tokens as api_tokens
from tracemark.app import close, create_app
from tracemark.models import ApiToken, TraceEvent

EVENTS = "/api/v1/brands/{slug}/events"


def test_token_is_shown_once_and_stored_as_its_digest(db, tenant):
    token = tenant.tokens["all"]
    prefix = token.split("_")[1]
    with db.sessions() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
        assert row.secret_hash == api_tokens.digest(token)
        assert token.split("_", 2)[2] not in (row.secret_hash, row.prefix, row.name)
        assert row.scope_set == {"capture", "read", "issue"}


def test_missing_malformed_unknown_and_revoked_tokens_are_401(db, client, tenant, conforms):
    url = tenant.url("events")
    good = tenant.tokens["read"]
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    cases = [
        ({}, "missing_token", "invalid_request"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing_token", "invalid_request"),
        ({"Authorization": "Bearer "}, "missing_token", "invalid_request"),
        (bearer("tm_nonsense"), "invalid_token", "invalid_token"),
        (bearer(forged), "invalid_token", "invalid_token"),
        (bearer("tm_" + "x" * 5000), "invalid_token", "invalid_token"),
    ]
    for headers, code, challenge in cases:
        response = client.get(url, headers=headers)
        assert response.status_code == 401
        assert conforms(response, EVENTS)["error"] == code
        assert response.headers["WWW-Authenticate"] == (
            f'Bearer realm="tracemark", error="{challenge}"'
        )
    assert client.get(url, headers=bearer(good)).status_code == 200
    with db.sessions.begin() as session:
        api_tokens.revoke_token(session, api_tokens.get_token(session, good.split("_")[1]))
    revoked = client.get(url, headers=bearer(good))
    assert revoked.status_code == 401 and revoked.get_json()["error"] == "invalid_token"


def test_last_use_is_recorded(db, client, tenant):
    prefix = tenant.tokens["read"].split("_")[1]
    with db.sessions() as session:
        assert api_tokens.get_token(session, prefix).last_used_at is None
    client.get(tenant.url("events"), headers=tenant.headers("read"))
    with db.sessions() as session:
        assert api_tokens.get_token(session, prefix).last_used_at is not None


def test_another_brands_token_finds_nothing(client, tenant, other, conforms):
    """A token used on another brand's slug is answered as an unknown brand: 404."""
    for slug in (other.slug, "no-such-brand"):
        for method, tail in (("get", "events"), ("post", "events"), ("get", "jobs/1")):
            response = getattr(client, method)(
                f"/api/v1/brands/{slug}/{tail}", headers=tenant.headers(), json={}
            )
            assert response.status_code == 404
            assert response.get_json()["error"] == "not_found"


def test_missing_scope_is_403(client, tenant, conforms):
    calls = [
        ("post", "events", "capture", "read", EVENTS),
        ("get", "events", "read", "capture", EVENTS),
        ("post", "batches", "issue", "read", "/api/v1/brands/{slug}/batches"),
        ("get", "stats/scans", "read", "issue", "/api/v1/brands/{slug}/stats/scans"),
    ]
    for method, tail, scope, holding, path in calls:
        response = getattr(client, method)(tenant.url(tail), headers=tenant.headers(holding))
        assert response.status_code == 403, tail
        body = conforms(response, path, method)
        assert (body["error"], body["scope"]) == ("insufficient_scope", scope)


def test_each_token_has_its_own_rate_budget(settings, db, tenant, document):
    app = create_app(replace(settings, api_rate_limit="2/minute"), {"TESTING": True})
    try:
        client = app.test_client()
        for _ in range(2):
            assert (
                client.get(tenant.url("events"), headers=tenant.headers("read")).status_code == 200
            )
        limited = client.get(tenant.url("events"), headers=tenant.headers("read"))
        assert limited.status_code == 429
        assert limited.get_json()["error"] == "too_many_requests"
        assert 0 < int(limited.headers["Retry-After"]) <= 61  # the window, rounded up
        assert not document.errors(limited, EVENTS)
        # another token of the same brand still has its budget
        assert client.get(tenant.url("events"), headers=tenant.headers()).status_code == 200
    finally:
        close(app)


def test_an_address_sending_bad_tokens_is_refused_before_any_lookup(
    settings, db, tenant, document, monkeypatch
):
    app = create_app(replace(settings, api_auth_failure_limit="3/minute"), {"TESTING": True})
    lookups = []
    authenticate = api_tokens.authenticate
    monkeypatch.setattr(
        api_tokens, "authenticate", lambda *a: lookups.append(1) or authenticate(*a)
    )
    try:
        client = app.test_client()
        # valid tokens spend nothing of the failure budget
        for _ in range(5):
            assert client.get(tenant.url("events"), headers=tenant.headers()).status_code == 200
        for i in range(3):  # a fresh random token each time: each would have its own budget
            headers = {} if i == 0 else bearer(f"tm_guess{i}_{'x' * 40}")
            assert client.get(tenant.url("events"), headers=headers).status_code == 401
        assert len(lookups) == 7
        refused = client.get(tenant.url("events"), headers=bearer("tm_guess9_" + "y" * 40))
        assert refused.status_code == 429
        assert refused.get_json()["error"] == "too_many_failures"
        assert 0 < int(refused.headers["Retry-After"]) <= 61
        assert not document.errors(refused, EVENTS)
        assert len(lookups) == 7  # refused before the token was looked up
        # the address is refused whatever it sends until the window ends
        assert client.get(tenant.url("events"), headers=tenant.headers()).status_code == 429
        # another address is not
        other = client.get(
            tenant.url("events"), headers=tenant.headers(), environ_base={"REMOTE_ADDR": "10.9.8.7"}
        )
        assert other.status_code == 200
    finally:
        close(app)


def test_a_failing_limit_storage_lets_token_checks_go_ahead(settings, db, tenant, monkeypatch):
    app = create_app(replace(settings, api_auth_failure_limit="1/minute"), {"TESTING": True})
    budgets = app.extensions["tracemark.budgets"]

    def broken(*_args, **_kwargs):
        raise ConnectionError("storage down")

    monkeypatch.setattr(budgets.storage, "get", broken)
    monkeypatch.setattr(budgets.storage, "incr", broken)
    try:
        client = app.test_client()
        for _ in range(3):
            assert client.get(tenant.url("events")).status_code == 401
        assert client.get(tenant.url("events"), headers=tenant.headers()).status_code == 200
    finally:
        close(app)


def _count(db, brand_id) -> int:
    with db.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(TraceEvent).where(TraceEvent.brand_id == brand_id)
        )


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": b"{", "content_type": "application/json"}, 400, "malformed_json"),
        ({"data": b"[" * 100_000, "content_type": "application/json"}, 400, "malformed_json"),
        ({"data": b'{"a": NaN}', "content_type": "application/json"}, 400, "malformed_json"),
        ({"data": b"\xff\xfe{", "content_type": "application/json"}, 400, "malformed_json"),
        ({"data": b"1" * 4000, "content_type": "application/json"}, 422, "schema_violation"),
        # beyond Python's integer-parsing limit (a denial-of-service guard)
        ({"data": b"1" * 5000, "content_type": "application/json"}, 400, "malformed_json"),
        ({"data": b"{}", "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ({"data": b"a=b"}, 415, "unsupported_media_type"),
        ({"json": {"type": "ObjectEvent\x00"}}, 422, "bad_character"),
        ({"data": b'{"x": "\\ud800"}', "content_type": "application/json"}, 422, "bad_character"),
        (
            {"data": b" " * (8 * 1024 * 1024 + 1), "content_type": "application/json"},
            413,
            "request_entity_too_large",
        ),
    ],
)
def test_hostile_bodies_get_stable_json_errors(db, client, tenant, conforms, kwargs, status, code):
    before = _count(db, tenant.demo.brand.id)
    response = client.post(tenant.url("events"), headers=tenant.headers(), **kwargs)
    assert response.status_code == status
    assert conforms(response, EVENTS, "post")["error"] == code
    assert _count(db, tenant.demo.brand.id) == before


def test_nul_in_query_or_path_is_refused(client, tenant):
    for url in (tenant.url("events?EQ_bizStep=a%00b"), tenant.url("trace/units/a%00b")):
        response = client.get(url, headers=tenant.headers())
        assert response.status_code == 422
        assert response.get_json()["error"] == "bad_character"


def test_errors_under_the_api_are_json(client, tenant):
    wrong_method = client.delete(tenant.url("events"), headers=tenant.headers())
    assert wrong_method.status_code == 405 and wrong_method.is_json
    unknown = client.get(tenant.url("nothing-here"), headers=tenant.headers())
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "not_found"


@pytest.mark.parametrize("size", [8 * 1024 * 1024 + 1, 9 * 1024 * 1024])
def test_chunked_body_over_the_limit_is_413(db, client, tenant, conforms, size):
    """A body without Content-Length (chunked) is measured as it is read: past the limit
    it is too large, not malformed."""
    before = _count(db, tenant.demo.brand.id)
    response = client.post(
        tenant.url("events"),
        headers={**tenant.headers(), "Transfer-Encoding": "chunked"},
        content_type="application/json",
        input_stream=io.BytesIO(b" " * size),
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert conforms(response, EVENTS, "post")["error"] == "request_entity_too_large"
    assert _count(db, tenant.demo.brand.id) == before


def test_chunked_body_within_the_limit_is_read_whole(client, tenant):
    body = b'{"type": "EPCISDocument"}' + b" " * (8 * 1024 * 1024 - 25)
    response = client.post(
        tenant.url("events"),
        headers={**tenant.headers(), "Transfer-Encoding": "chunked"},
        content_type="application/json",
        input_stream=io.BytesIO(body),
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert len(body) == 8 * 1024 * 1024
    assert response.status_code == 422  # read whole and parsed: a schema answer, not 413
