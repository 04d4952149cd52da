"""TOTP second factor: enrolment on the account page, two-step sign-in, replay refusal,
recovery codes, disabling, encryption at rest, and `tracemark users reset-2fa`."""

from __future__ import annotations

import time

import pyotp
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from admin.auth import PENDING
from tests.helpers.admin import (
    PASSWORD,
    RECOVERY_CODES_LISTED,
    SECRET_FIELD,
    audit_actions,
    code_at,
    csrf_token,
    enrol,
    error_of,
    login,
    send_code,
)
from tracemark.accounts import second_factor
from tracemark.cli import main
from tracemark.models import RecoveryCode, User


def user_by_email(db, email: str) -> User:
    with db.sessions() as session:
        return session.scalar(select(User).where(User.email == email))


def test_enabling_needs_a_working_code_and_shows_recovery_codes_once(client, people, db):
    login(client, people.owner)
    page = client.get("/admin/account").get_data(as_text=True)
    secret = SECRET_FIELD.search(page).group(1)
    assert 'src="data:image/svg+xml' in page and "<script" not in page and "style=" not in page
    token = csrf_token(client, "/admin/account")
    wrong = client.post(
        "/admin/account/second-factor", data={"csrf_token": token, "code": "000000"}
    )
    assert wrong.status_code == 400 and 'data-error="code"' in wrong.get_data(as_text=True)
    assert user_by_email(db, people.owner).totp_secret is None
    # the same secret is offered until it is confirmed
    assert (
        SECRET_FIELD.search(client.get("/admin/account").get_data(as_text=True)).group(1) == secret
    )

    enabled_secret, codes = enrol(client)
    assert enabled_secret == secret and len(set(codes)) == len(codes)
    user = user_by_email(db, people.owner)
    assert user.totp_secret.startswith("v1:") and secret not in user.totp_secret
    with db.sessions() as session:
        hashes = session.scalars(
            select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
        ).all()
    assert len(hashes) == len(codes) and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(code.replace("-", "") in h for code in codes for h in hashes)
    again = client.get("/admin/account").get_data(as_text=True)
    assert not RECOVERY_CODES_LISTED.search(again) and 'data-recovery-left="8"' in again
    assert 'data-second-factor="on"' in again
    assert [e.user_id for e in audit_actions(db, "user.totp_enable")].count(user.id) == 1


def test_sign_in_takes_two_steps_and_a_code_is_good_only_once(app, people, db):
    first = app.test_client()
    login(first, people.owner)
    secret, _codes = enrol(first)
    used = code_at(secret)  # the enrolment spent this time step

    client = app.test_client()
    response = login(client, people.owner, next=f"/admin/brands/{people.brand.slug}/sites")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login/code"
    replayed = send_code(client, used)
    assert replayed.status_code == 200 and error_of(replayed)
    assert client.get("/admin/").status_code == 302
    fresh = code_at(secret, 1)
    accepted = send_code(client, fresh)
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == f"/admin/brands/{people.brand.slug}/sites"
    assert client.get("/admin/").status_code == 200

    other = app.test_client()
    login(other, people.owner)
    assert error_of(send_code(other, fresh))  # replay from another client
    assert error_of(send_code(other, used))  # and an older step
    assert other.get("/admin/").status_code == 302
    user_id = user_by_email(db, people.owner).id
    logins = [e.details for e in audit_actions(db, "user.login") if e.user_id == user_id]
    assert logins == [{}, {"second_factor": "totp"}]


def test_the_pending_state_reaches_no_admin_page(app, client, people, db):
    login(client, people.owner)
    secret, _codes = enrol(client)
    fresh = app.test_client()
    login(fresh, people.owner)
    with fresh.session_transaction() as session:
        assert PENDING in session and "_user_id" not in session
    for path in (
        "/admin/",
        "/admin/account",
        f"/admin/brands/{people.brand.slug}/products",
        f"/admin/brands/{people.brand.slug}/audit",
        f"/admin/brands/{people.brand.slug}/audit/export",
        f"/admin/brands/{people.brand.slug}/keys",
    ):
        response = fresh.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/admin/login")
    token = csrf_token(fresh, "/admin/login/code")
    posted = fresh.post(
        f"/admin/brands/{people.brand.slug}/products",
        data={"csrf_token": token, "gtin": "4006381333931", "name": "Pens"},
    )
    assert posted.status_code == 302 and posted.headers["Location"].startswith("/admin/login")
    # the pending state is short-lived
    token = csrf_token(fresh, "/admin/login/code")
    with fresh.session_transaction() as session:
        session[PENDING] = {**session[PENDING], "at": int(time.time()) - 301}
    expired = fresh.post(
        "/admin/login/code", data={"csrf_token": token, "code": code_at(secret, 1)}
    )
    assert expired.status_code == 302 and expired.headers["Location"] == "/admin/login"
    assert fresh.get("/admin/").status_code == 302


def test_a_recovery_code_signs_in_once(app, people, db):
    setup = app.test_client()
    login(setup, people.owner)
    _secret, codes = enrol(setup)
    client = app.test_client()
    login(client, people.owner)
    assert send_code(client, codes[0].upper().replace("-", " ")).status_code == 302
    assert client.get("/admin/").status_code == 200
    again = app.test_client()
    login(again, people.owner)
    assert error_of(send_code(again, codes[0]))
    assert again.get("/admin/").status_code == 302
    assert send_code(again, codes[1]).status_code == 302
    user_id = user_by_email(db, people.owner).id
    used = [e.details for e in audit_actions(db, "user.recovery_code_used") if e.user_id == user_id]
    assert used == [{"left": 7}, {"left": 6}]
    assert 'data-recovery-left="6"' in again.get("/admin/account").get_data(as_text=True)


def test_wrong_codes_count_against_the_account_throttle(app, people, db):
    app.config["TRACEMARK_LOGIN_FREE_FAILURES"] = 3
    setup = app.test_client()
    login(setup, people.owner)
    secret, _codes = enrol(setup)
    client = app.test_client()
    login(client, people.owner)
    for _ in range(3):
        assert error_of(send_code(client, "123456"))
    assert error_of(send_code(client, code_at(secret, 1)))  # locked: even the right code
    assert client.get("/admin/").status_code == 302
    # and the password step too, with the one answer for a wrong password
    other = app.test_client()
    refused = login(other, people.owner)
    assert refused.status_code == 200
    assert error_of(refused) == "The email address or the password is not correct."
    user_id = user_by_email(db, people.owner).id
    failed = [e for e in audit_actions(db, "user.login_failed") if e.user_id == user_id]
    assert [e.details for e in failed] == [{"stage": "second_factor"}] * 4


def test_disabling_needs_the_password_and_a_current_code(app, client, people, db):
    login(client, people.owner)
    secret, _codes = enrol(client)
    path = "/admin/account/second-factor/disable"

    def disable(password, code):
        token = csrf_token(client, "/admin/account")
        return client.post(path, data={"csrf_token": token, "password": password, "code": code})

    assert disable("wrong password!!", code_at(secret, 1)).status_code == 400
    assert disable(PASSWORD, "999999").status_code == 400
    assert user_by_email(db, people.owner).totp_secret is not None
    response = disable(PASSWORD, code_at(secret, 1))
    assert response.status_code == 303
    user = user_by_email(db, people.owner)
    assert user.totp_secret is None and user.totp_last_step is None
    with db.sessions() as session:
        assert not session.scalars(
            select(RecoveryCode).where(RecoveryCode.user_id == user.id)
        ).all()
    assert 'data-second-factor="off"' in client.get("/admin/account").get_data(as_text=True)
    assert [e.user_id for e in audit_actions(db, "user.totp_disable")].count(user.id) == 1
    fresh = app.test_client()
    assert login(fresh, people.owner).headers["Location"] == "/admin/"


def test_the_stored_secret_is_bound_to_its_user_and_the_secret_key():
    stored = second_factor.encrypt_secret("JBSWY3DPEHPK3PXP", "key one", 7)
    assert "JBSWY3DPEHPK3PXP" not in stored
    assert second_factor.decrypt_secret(stored, "key one", 7) == "JBSWY3DPEHPK3PXP"
    for key, user_id in (("key two", 7), ("key one", 8)):
        with pytest.raises(second_factor.SecretUnreadable):
            second_factor.decrypt_secret(stored, key, user_id)
    with pytest.raises(second_factor.SecretUnreadable):
        second_factor.decrypt_secret("v1:not base64!", "key one", 7)


def test_codes_within_one_step_of_the_clock_are_accepted_once_each():
    secret = pyotp.random_base32()
    now = 1_800_000_000.0
    totp = pyotp.TOTP(secret)
    step = int(now // 30)
    assert second_factor.matching_step(secret, totp.at(now), None, now) == step
    assert second_factor.matching_step(secret, totp.at(now - 30), None, now) == step - 1
    assert second_factor.matching_step(secret, totp.at(now + 30), None, now) == step + 1
    assert second_factor.matching_step(secret, totp.at(now - 60), None, now) is None
    assert second_factor.matching_step(secret, totp.at(now), step, now) is None
    assert second_factor.matching_step(secret, "12345x", None, now) is None


def test_users_reset_2fa_clears_the_factor_ends_sessions_and_audits(app, client, people, db):
    login(client, people.owner)
    enrol(client)
    assert client.get("/admin/").status_code == 200
    env = {"TRACEMARK_DATABASE_URL": db.url}
    result = CliRunner().invoke(main, ["users", "reset-2fa", people.owner.upper()], env=env)
    assert result.exit_code == 0, result.output
    assert "reset" in result.output
    user = user_by_email(db, people.owner)
    assert user.totp_secret is None
    assert client.get("/admin/").status_code == 302  # signed out everywhere
    (entry,) = [e for e in audit_actions(db, "user.totp_reset") if e.object_id == str(user.id)]
    assert (entry.details, entry.actor, entry.user_id) == ({}, "cli", None)
    fresh = app.test_client()
    assert login(fresh, people.owner).headers["Location"] == "/admin/"
    again = CliRunner().invoke(main, ["users", "reset-2fa", people.owner], env=env)
    assert again.exit_code == 1 and "no second factor" in again.output
    unknown = CliRunner().invoke(main, ["users", "reset-2fa", "nobody@example.com"], env=env)
    assert unknown.exit_code == 1 and "no user" in unknown.output


def test_changing_the_password_ends_other_sessions(app, client, people, db):
    other = app.test_client()
    login(other, people.owner)
    login(client, people.owner)

    def change(current, new, again):
        token = csrf_token(client, "/admin/account")
        data = {"csrf_token": token, "current_password": current, "new_password": new,
                "new_password_again": again}  # fmt: skip
        return client.post("/admin/account/password", data=data)

    assert (
        change("wrong password!!", "a new long password", "a new long password").status_code == 400
    )
    assert change(PASSWORD, "short", "short").status_code == 400
    assert change(PASSWORD, "a new long password", "another one!!").status_code == 400
    response = change(PASSWORD, "a new long password", "a new long password")
    assert response.status_code == 303
    assert client.get("/admin/account").status_code == 200  # this session goes on
    assert other.get("/admin/").status_code == 302  # the other one ended
    assert login(app.test_client(), people.owner, "a new long password").status_code == 302
    user_id = user_by_email(db, people.owner).id
    assert [e.user_id for e in audit_actions(db, "user.password_change")].count(user_id) == 1


def test_account_changes_draw_on_the_sign_in_budget(app, client, people):
    app.config["TRACEMARK_LOGIN_LIMIT"] = "3/day"
    login(client, people.owner)  # one
    for expected in (400, 400, 429):
        token = csrf_token(client, "/admin/account")
        new = "a new long password"
        data = {"csrf_token": token, "current_password": "wrong password!!",
                "new_password": new, "new_password_again": new}  # fmt: skip
        assert client.post("/admin/account/password", data=data).status_code == expected
