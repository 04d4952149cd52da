"""The verdict page's link to record a checkpoint: for the brand's signed-in owners and
staff only, and at no cost to anonymous scans."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event

from tests.conftest import PASSPHRASE, make_brand
from tests.helpers.admin import PASSWORD, login
from tracemark.accounts import users as accounts
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.models import Batch, Role


@pytest.fixture
def scene(db):
    """A unit's label path, and users by role: four of its brand, and another's owner."""
    mine, theirs = make_brand(db.sessions), make_brand(db.sessions)
    issuance.issue(db.sessions, mine.batch.id, 1, PASSPHRASE)
    with db.sessions.begin() as session:
        batch = session.get_one(Batch, mine.batch.id)
        url = next(batch_urls(session, batch, "http://x"))[1]
        emails = {}
        for role in ("owner", "staff", "marketing", "regulator", "outsider"):
            email = f"{role}-{secrets.token_hex(4)}@example.com"
            user = accounts.create_user(session, email, PASSWORD, role)
            brand = theirs.brand if role == "outsider" else mine.brand
            accounts.grant(session, user, brand, Role.OWNER if role == "outsider" else Role(role))
            emails[role] = email
    return mine.brand.slug, url[url.index("/01/") :], emails


@pytest.mark.parametrize(
    ("role", "shown"),
    [("owner", True), ("staff", True), ("marketing", False), ("regulator", False),
     ("outsider", False)],
)  # fmt: skip
def test_only_the_brands_owners_and_staff_see_the_link(app, scene, role, shown):
    slug, path, emails = scene
    client = app.test_client()
    assert login(client, emails[role]).status_code == 302
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert ("data-record-checkpoint" in html) is shown
    if shown:
        # staff's button is not drawn in a verdict's colour ("Report this product")
        assert 'class="button button-staff"' in html
        start = html.index('href="', html.index("staff-record")) + len('href="')
        href = html[start : html.index('"', start)].replace("&amp;", "&")
        parts = urlsplit(href)
        assert parts.path == f"/admin/brands/{slug}/record"
        assert parse_qs(parts.query)["code"] == [f"http://localhost{path}"]
        # the link leads to the recording page, the label filled in
        assert client.get(href).status_code == 200


def test_anonymous_scans_make_no_account_query(app, scene):
    _slug, path, _emails = scene
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engines = {app.extensions["tracemark.engine"], app.extensions["tracemark.scan_engine"]}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)
    try:
        response = app.test_client().get(path)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", seen)
    assert response.status_code == 200
    assert "data-record-checkpoint" not in response.get_data(as_text=True)
    assert statements, "the scan itself was not seen"
    touched = [s for s in statements if "membership" in s or "app_user" in s]
    assert touched == []
