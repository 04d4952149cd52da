"""The admin app through the Flask test client: signing in and out, sessions, roles."""

from __future__ import annotations

import re
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from admin.auth import SIGNED_IN_AT
from tests.helpers.admin import (
    PASSWORD,
    assert_no_inline_code,
    audit_actions,
    csrf_token,
    error_of,
    login,
)
from tracemark import audit
from tracemark.accounts import users as accounts
from tracemark.models import AuditLog, Brand, User


def test_the_owner_signs_in_and_sees_their_brand_with_the_role(client, people, db):
    response = login(client, people.owner)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert people.brand.name in html and 'data-role="owner"' in html and "Owner" in html
    assert f"/admin/brands/{people.brand.slug}/audit" in html
    with db.sessions() as session:
        user = session.scalar(select(User).where(User.email == people.owner))
        assert user.last_login_at is not None
        entries = session.scalars(
            select(AuditLog).where(AuditLog.user_id == user.id, AuditLog.action == "user.login")
        ).all()
    assert len(entries) == 1 and entries[0].brand_id is None


def test_a_staff_member_sees_no_audit_link(client, people):
    login(client, people.staff)
    html = client.get("/admin/").get_data(as_text=True)
    assert 'data-role="staff"' in html and "/audit" not in html


def test_a_post_without_the_csrf_token_is_refused(client, people):
    response = client.post("/admin/login", data={"email": people.owner, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302  # not signed in


def test_wrong_password_unknown_email_and_inactive_user_get_one_answer(client, people, db):
    before = len(audit_actions(db, "user.login_failed"))
    answers = [
        login(client, people.owner, "wrong password!!"),
        login(client, f"nobody-{secrets.token_hex(4)}@example.com"),
        login(client, people.inactive),
    ]
    assert {response.status_code for response in answers} == {200}
    errors = {error_of(response) for response in answers}
    assert len(errors) == 1 and None not in errors
    assert errors == {"The email address or the password is not correct."}
    for response in answers:
        assert PASSWORD not in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    failed = audit_actions(db, "user.login_failed")
    assert len(failed) == before + 3
    assert all(entry.user_id is None and entry.brand_id is None for entry in failed)


def test_the_failure_message_is_translated(client, people):
    response = login(client, people.owner, "wrong password!!", headers={"Accept-Language": "de"})
    assert 'lang="de"' in response.get_data(as_text=True)
    assert error_of(response) not in (None, "The email address or the password is not correct.")


def test_signing_in_starts_a_new_session(client, people):
    token = csrf_token(client)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = client.get_cookie("session").value
    response = client.post(
        "/admin/login", data={"csrf_token": token, "email": people.owner, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get_cookie("session").value != before
    with client.session_transaction() as session:
        assert "planted" not in session and "csrf_token" not in session
        assert session[SIGNED_IN_AT] <= time.time()
    # the token issued before signing in is worthless now
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 400
    assert client.get("/admin/").status_code == 200


def test_logout_ends_the_session(client, people, db):
    login(client, people.owner)
    token = csrf_token(client, "/admin/")
    response = client.post("/admin/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login"
    assert client.get("/admin/").status_code == 302
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert any(entry.object_id for entry in audit_actions(db, "user.logout"))


def _copy_session(app, client):
    """Another client holding a copy of ``client``'s session cookie (a captured cookie)."""
    name = app.config["SESSION_COOKIE_NAME"]
    thief = app.test_client()
    thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def test_a_session_cookie_copied_before_logout_opens_nothing_after(app, client, people):
    login(client, people.owner)
    thief = _copy_session(app, client)
    assert thief.get("/admin/").status_code == 200
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert thief.get("/admin/").status_code == 302
    assert login(client, people.owner).status_code == 302  # signing in again still works
    assert client.get("/admin/").status_code == 200


def test_revoking_a_role_ends_the_users_sessions_and_is_audited(app, client, people, db):
    login(client, people.staff)
    thief = _copy_session(app, client)
    with db.sessions.begin() as session:
        user = session.scalar(select(User).where(User.email == people.staff))
        owner = session.scalar(select(User).where(User.email == people.owner))
        brand = session.get(Brand, people.brand.id)
        assert accounts.revoke(session, user, brand, actor=owner)
        assert not accounts.revoke(session, user, brand, actor=owner)  # nothing left to take
        assert accounts.role_in(session, user, brand.id) is None
    assert client.get("/admin/").status_code == 302
    assert thief.get("/admin/").status_code == 302
    [entry] = [e for e in audit_actions(db, "membership.revoke") if e.brand_id == people.brand.id]
    assert entry.details["role"] == "staff"
    assert entry.user_id is not None


def test_users_revoke_from_the_command_line(app, client, people, db):
    from click.testing import CliRunner

    from tracemark.cli import main

    login(client, people.staff)
    env = {"TRACEMARK_DATABASE_URL": db.url}
    args = ["users", "revoke", people.staff, "--brand", people.brand.slug]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert client.get("/admin/").status_code == 302
    again = CliRunner().invoke(main, args, env=env)
    assert again.exit_code != 0 and "has no role" in again.output
    entries = audit_actions(db, "membership.revoke")
    assert [e.brand_id for e in entries].count(people.brand.id) == 1


def _next_of(response) -> str:
    location = urlsplit(response.headers["Location"])
    assert location.path == "/admin/login"
    return parse_qs(location.query)["next"][0]


def test_pages_need_a_session_and_come_back_after_signing_in(client, people):
    path = f"/admin/brands/{people.brand.slug}/audit?before=99999"
    response = client.get(path)
    assert response.status_code == 302 and _next_of(response) == path
    # the form carries it on
    form = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/admin/brands/' in form
    assert login(client, people.owner, next=path).headers["Location"] == path


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/admin/", "//evil.example/admin/", "/\\evil.example", "/lang/fr"],
)
def test_next_leads_only_into_the_admin_app(client, people, target):
    assert login(client, people.owner, next=target).headers["Location"] == "/admin/"


def test_a_raised_session_version_ends_the_session(client, people, db):
    login(client, people.owner)
    assert client.get("/admin/").status_code == 200
    with db.sessions.begin() as session:
        user = session.scalar(select(User).where(User.email == people.owner))
        accounts.end_sessions(session, user)
    response = client.get("/admin/")
    assert response.status_code == 302 and _next_of(response) == "/admin/"


def test_a_deactivated_user_is_signed_out(client, people, db):
    login(client, people.owner)
    with db.sessions.begin() as session:
        session.scalar(select(User).where(User.email == people.owner)).is_active = False
    assert client.get("/admin/").status_code == 302


def test_a_session_expires_after_its_maximum_age(app, client, people):
    login(client, people.owner)
    with client.session_transaction() as session:
        age = app.config["TRACEMARK_ADMIN_SESSION_MAX_AGE"]
        session[SIGNED_IN_AT] = int(time.time()) - age - 1
    response = client.get("/admin/?x=1")
    assert response.status_code == 302 and _next_of(response) == "/admin/?x=1"


def test_the_audit_page_is_for_owners_of_the_brand(client, people, db):
    with db.sessions.begin() as session:
        audit.record(session, "key.revoke", brand_id=people.brand.id, details={"m": "MINE-1"})
        audit.record(session, "key.revoke", brand_id=people.other.id, details={"m": "THEIRS-1"})
    path = f"/admin/brands/{people.brand.slug}/audit"

    login(client, people.owner)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "MINE-1" in html
    assert "THEIRS-1" not in html and people.other.name not in html

    staff = client.application.test_client()
    login(staff, people.staff)
    forbidden = staff.get(path)
    assert forbidden.status_code == 403 and "MINE-1" not in forbidden.get_data(as_text=True)

    stranger = client.application.test_client()
    login(stranger, people.stranger)
    hidden = stranger.get(path)
    missing = stranger.get("/admin/brands/no-such-brand/audit")
    assert hidden.status_code == missing.status_code == 404
    # nothing tells that the brand exists (the pages differ only by the address in them)
    assert hidden.get_data(as_text=True).replace(people.brand.slug, "?") == missing.get_data(
        as_text=True
    ).replace("no-such-brand", "?")
    home = stranger.get("/admin/").get_data(as_text=True)
    assert people.other.name in home and people.brand.name not in home
    assert "THEIRS-1" in stranger.get(f"/admin/brands/{people.other.slug}/audit").get_data(
        as_text=True
    )


def test_the_audit_page_pages_newest_first(client, people, db, monkeypatch):
    monkeypatch.setattr("admin.views.PAGE_SIZE", 2)
    with db.sessions.begin() as session:
        for n in range(5):
            audit.record(
                session,
                "batch.hold",
                brand_id=people.brand.id,
                object_type="batch",
                object_id=n,
            )
    login(client, people.owner)
    path = f"/admin/brands/{people.brand.slug}/audit"
    seen = []
    while path:
        html = client.get(path).get_data(as_text=True)
        seen += re.findall(r"<td>batch (\d)</td>", html)
        more = re.search(r'rel="next" href="([^"]+)"', html)
        path = more.group(1).replace("&amp;", "&") if more else None
    assert seen == ["4", "3", "2", "1", "0"]


def test_too_many_sign_in_attempts_get_429(app, client, people):
    app.config["TRACEMARK_LOGIN_LIMIT"] = "3/day"
    for _ in range(3):
        assert login(client, people.owner, "wrong password!!").status_code == 200
    limited = login(client, people.owner)  # even the right password
    assert limited.status_code == 429
    assert client.get("/admin/login").status_code == 200  # the form itself is not limited
    assert client.get("/admin/").status_code == 302


def test_the_session_cookie_is_httponly_lax_and_secure_over_tls(app, client, people):
    login(client, people.owner)
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure
    over_tls = app.test_client()
    response = over_tls.get("/admin/login", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_the_secure_cookie_setting_marks_it_secure_everywhere(settings):
    from dataclasses import replace

    from tracemark.app import close, create_app

    app = create_app(replace(settings, secure_cookies=True), {"TESTING": True})
    response = app.test_client().get("/admin/login")
    assert "Secure" in response.headers["Set-Cookie"]
    close(app)


def test_admin_pages_have_no_inline_script_or_style(client, people):
    login(client, people.owner)
    for path in ("/admin/login", "/admin/", f"/admin/brands/{people.brand.slug}/audit"):
        assert_no_inline_code(client.get(path).get_data(as_text=True))
    assert client.get("/static/admin.css").status_code == 200


def test_the_language_switcher_comes_back_to_the_admin_page(client):
    response = client.get("/lang/fr", query_string={"next": "/admin/login"})
    assert response.headers["Location"] == "/admin/login"
    html = client.get("/admin/login").get_data(as_text=True)
    assert 'lang="fr"' in html and "Se connecter" in html
