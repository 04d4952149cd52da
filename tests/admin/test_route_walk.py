"""Every admin route, for every role and against a foreign brand: the expected status, and
never another brand's data.

The routes come from the app's URL map, so a new admin route fails this test until it is
given its place in ``ACCESS`` (who may read it, who may change through it) and its URL
parameters have values in the world (both in ``tests/helpers/route_walk.py``). Expected
answers:

* a role the route admits: 200 for a read; for a write anything but 403/404/5xx (an empty
  form may be refused as invalid); a refused write leaves nothing, not even an audit entry;
* another role of the brand: 403; someone with no role in the brand: 404, exactly as for
  a brand that does not exist; nobody signed in: the login page;
* the brand's own URL naming another brand's object: 404, whoever asks.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.helpers.admin import assert_no_inline_code, csrf_token
from tests.helpers.route_walk import (
    ACCESS,
    ACCOUNT_ROUTES,
    EVERYONE,
    LAST,
    OBJECTS,
    Access,
    World,
    admin_rules,
    client_as,
    make_world,
    path_for,
)
from tracemark.config import Settings
from tracemark.models import AuditLog


@pytest.fixture
def settings(db) -> Settings:
    """A web server as deployed: it holds the statement-key passphrase, never the one
    that decrypts code-signing keys."""
    return Settings(
        database_url=db.url,
        secret_key="test",
        pin_secret="test-pin-secret",
        statement_passphrase="walk-statement-passphrase",
    )


@pytest.fixture
def world(db) -> World:
    return make_world(db)


def _audit_entries(db) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditLog))


def _send(client, method: str, path: str, token: str | None):
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": token} if token else {})


def _brand_expectation(access: Access, method: str, role: str) -> set[int] | None:
    """The statuses allowed for ``role``; None when any non-refusal will do."""
    if role == "anonymous":
        return {302}
    if role == "outsider":
        return {404}
    admitted = access.read if method == "GET" else access.write
    if role not in admitted:
        return {403}
    return set(access.read_ok) if method == "GET" else None


def test_every_admin_route_is_classified(app):
    known = set(ACCESS) | {endpoint for endpoint, _ in (*ACCOUNT_ROUTES, *LAST)}
    walked = {rule.endpoint for rule, _ in admin_rules(app)}
    assert walked - known == set(), "classify these routes in ACCESS or ACCOUNT_ROUTES"
    assert known - walked == set(), "these classified routes no longer exist"


@pytest.mark.slow  # every admin route for every role: CI runs it, the quick subset does not
@pytest.mark.parametrize("role", EVERYONE)
def test_every_route_answers_each_role_as_expected(app, db, world, role):
    client = client_as(app, world, role)
    token = csrf_token(client, "/admin/login") if role == "anonymous" else None
    if token is None:
        token = csrf_token(client, "/admin/")
    last = []
    for rule, method in admin_rules(app):
        if (rule.endpoint, method) in LAST:
            last.append((rule, method))
            continue
        path = path_for(rule, world.mine)
        before = _audit_entries(db)
        answer = _send(client, method, path, token)
        status = answer.status_code
        if method == "POST" and status in (403, 404):
            assert _audit_entries(db) == before, (role, path, "a refused write left a trace")
        where = (role, method, path, status)
        assert status < 500, where
        if (rule.endpoint, method) in ACCOUNT_ROUTES:
            assert status == ACCOUNT_ROUTES[rule.endpoint, method][role], where
        else:
            expected = _brand_expectation(ACCESS[rule.endpoint], method, role)
            if expected is None:
                assert status not in (403, 404), where
            else:
                assert status in expected, where
            if status == 302 and role == "anonymous":
                assert "/admin/login" in answer.headers["Location"], where
        if status == 200:
            body = answer.get_data()  # a PDF download is no text
            if answer.mimetype == "text/html":
                assert_no_inline_code(body.decode())
            for name in world.hidden[role]:
                assert name.encode() not in body, (*where, "shows another brand's", name)
    for rule, method in last:
        path = path_for(rule, world.mine)
        status = _send(client, method, path, token).status_code
        assert status == LAST[rule.endpoint, method][role], (role, method, path, status)


def test_another_brands_objects_are_not_found_under_my_brand(app, world):
    client = client_as(app, world, "owner")
    token = csrf_token(client, "/admin/")
    for rule, method in admin_rules(app):
        if rule.endpoint not in ACCESS:
            continue
        for name in rule.arguments & set(OBJECTS):
            crossed = {**world.mine, name: world.theirs[name]}
            path = path_for(rule, crossed)
            status = _send(client, method, path, token).status_code
            assert status == 404, (method, path, status)
