"""Accounts, memberships and the audit log as services, and `tracemark users create`."""

from __future__ import annotations

import secrets

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import select

from tests.conftest import make_brand
from tracemark import audit
from tracemark.accounts import users as accounts
from tracemark.cli import main
from tracemark.models import AuditLog, Role, User

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Argon2id with tiny costs: the same code paths, a fraction of the time."""
    monkeypatch.setattr(
        accounts, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


def new_email(prefix: str = "user") -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


def test_a_new_user_has_a_lowercased_email_and_an_argon2id_hash(db):
    email = new_email("Ana.Lopez").replace("example", "Example")
    with db.sessions.begin() as session:
        user = accounts.create_user(session, f"  {email} ", PASSWORD, "Ana López")
        assert user.email == email.lower()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert user.is_active and user.session_version == 1 and user.totp_secret is None
        assert user.last_login_at is None


def test_the_default_hasher_is_argon2id():
    from argon2 import Type

    assert PasswordHasher().type is Type.ID
    assert accounts.PasswordHasher is PasswordHasher


@pytest.mark.parametrize(
    ("email", "password", "code"),
    [
        ("not-an-email", PASSWORD, "invalid_email"),
        ("a@localhost", PASSWORD, "invalid_email"),
        ("two@@example.com", PASSWORD, "invalid_email"),
        ("with space@example.com", PASSWORD, "invalid_email"),
        ("", PASSWORD, "invalid_email"),
        ("x" * 250 + "@example.com", PASSWORD, "invalid_email"),
        (None, "eleven char", "password_too_short"),
        (None, "", "password_too_short"),
        (None, "p" * 1025, "password_too_long"),
    ],
)
def test_create_user_refuses_with_a_stable_code(db, email, password, code):
    with db.sessions() as session:
        with pytest.raises(accounts.AccountError) as raised:
            accounts.create_user(session, new_email() if email is None else email, password, "X")
        assert raised.value.code == code
        assert session.scalar(select(User).where(User.display_name == "X")) is None


def test_emails_are_unique_whatever_their_case(db):
    email = new_email()
    with db.sessions.begin() as session:
        accounts.create_user(session, email, PASSWORD, "First")
    with db.sessions() as session:
        with pytest.raises(accounts.AccountError) as raised:
            accounts.create_user(session, email.upper(), PASSWORD, "Second")
        assert raised.value.code == "email_taken"


def test_authenticate_accepts_the_right_password_and_records_the_time(db):
    email = new_email()
    with db.sessions.begin() as session:
        accounts.create_user(session, email, PASSWORD, "U")
    with db.sessions.begin() as session:
        user = accounts.authenticate(session, email.upper(), PASSWORD)
        assert user is not None and user.email == email
        assert user.last_login_at is not None


def test_authenticate_refuses_wrong_password_unknown_email_and_inactive_user(db):
    email, inactive = new_email(), new_email()
    with db.sessions.begin() as session:
        accounts.create_user(session, email, PASSWORD, "U")
        accounts.create_user(session, inactive, PASSWORD, "I").is_active = False
    with db.sessions.begin() as session:
        assert accounts.authenticate(session, email, PASSWORD + "!") is None
        assert accounts.authenticate(session, email, "") is None
        assert accounts.authenticate(session, new_email(), PASSWORD) is None
        assert accounts.authenticate(session, "garbage", PASSWORD) is None
        assert accounts.authenticate(session, inactive, PASSWORD) is None
        assert accounts.authenticate(session, email, "p" * 100_000) is None
        found = session.scalar(select(User).where(User.email == email))
        assert found.last_login_at is None


def test_an_unknown_email_costs_a_hash_verification_too(db, monkeypatch):
    calls = []

    class Counting(PasswordHasher):
        def verify(self, hash, password):
            calls.append(hash)
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "hasher", Counting(time_cost=1, memory_cost=8, parallelism=1))
    email = new_email()
    with db.sessions.begin() as session:
        accounts.create_user(session, email, PASSWORD, "U")
        assert accounts.authenticate(session, new_email(), PASSWORD) is None
        assert accounts.authenticate(session, email, "wrong password!!") is None
    assert len(calls) == 2
    assert "$argon2id$v=19$m=8,t=1,p=1$" in calls[0]  # a dummy under the same parameters


def test_a_hash_made_with_old_parameters_is_renewed_at_sign_in(db, monkeypatch):
    email = new_email()
    with db.sessions.begin() as session:
        old = accounts.create_user(session, email, PASSWORD, "U").password_hash
    monkeypatch.setattr(
        accounts, "hasher", PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    )
    with db.sessions.begin() as session:
        assert accounts.authenticate(session, email, "wrong password!!") is None
        assert session.scalar(select(User.password_hash).where(User.email == email)) == old
        user = accounts.authenticate(session, email, PASSWORD)
        assert user.password_hash != old and "m=16,t=2" in user.password_hash
    with db.sessions.begin() as session:
        assert accounts.authenticate(session, email, PASSWORD) is not None


def test_memberships_give_one_role_per_brand(db):
    first, second, third = (make_brand(db.sessions) for _ in range(3))
    with db.sessions.begin() as session:
        user = accounts.create_user(session, new_email(), PASSWORD, "U")
        accounts.grant(session, user, first.brand, Role.STAFF)
        accounts.grant(session, user, second.brand, "regulator")
        accounts.grant(session, user, first.brand, Role.OWNER)  # replaces staff
        assert accounts.role_in(session, user, first.brand.id) is Role.OWNER
        assert accounts.role_in(session, user, second.brand.id) is Role.REGULATOR
        assert accounts.role_in(session, user, third.brand.id) is None
        ids = {b.id for b in accounts.brands_for(session, user)}
        assert ids == {first.brand.id, second.brand.id}
        owned = accounts.brands_for(session, user, roles=[Role.OWNER])
        assert [b.id for b in owned] == [first.brand.id]
        assert accounts.brands_for(session, user, roles=[Role.MARKETING]) == []
        assert {(b.id, r) for b, r in accounts.memberships(session, user)} == {
            (first.brand.id, Role.OWNER),
            (second.brand.id, Role.REGULATOR),
        }


def test_grant_refuses_an_unknown_role(db):
    demo = make_brand(db.sessions)
    with db.sessions() as session:
        user = accounts.create_user(session, new_email(), PASSWORD, "U")
        with pytest.raises(accounts.AccountError) as raised:
            accounts.grant(session, user, demo.brand, "admin")
        assert raised.value.code == "invalid_role"


def test_end_sessions_raises_the_session_version(db):
    with db.sessions.begin() as session:
        user = accounts.create_user(session, new_email(), PASSWORD, "U")
        accounts.end_sessions(session, user)
        assert user.session_version == 2
        accounts.set_password(session, user, "another long password")
        assert user.session_version == 3
        assert accounts.authenticate(session, user.email, "another long password") is user


def test_audit_entries_are_per_brand_newest_first_and_paged(db):
    mine, theirs = make_brand(db.sessions), make_brand(db.sessions)
    with db.sessions.begin() as session:
        user = accounts.create_user(session, new_email(), PASSWORD, "U")
        for n in range(5):
            audit.record(
                session,
                "key.revoke",
                user=user,
                brand_id=mine.brand.id,
                object_type="signing_key",
                object_id=n,
                details={"n": n},
            )
        audit.record(session, "key.revoke", brand_id=theirs.brand.id, details={"n": 99})
        audit.record(session, "user.login", user=user)
    with db.sessions() as session:
        first = audit.entries(session, mine.brand.id, 3)
        assert [e.details["n"] for e in first] == [4, 3, 2]
        assert first[0].object_id == "4" and first[0].user.id == user.id
        rest = audit.entries(session, mine.brand.id, 3, before_id=first[-1].id)
        assert [e.details.get("n") for e in rest][:2] == [1, 0]  # then the brand's making
        theirs_entries = audit.entries(session, theirs.brand.id, 10)
        assert [e.details["n"] for e in theirs_entries if e.action == "key.revoke"] == [99]
        brandless = session.scalars(select(AuditLog).where(AuditLog.user_id == user.id)).all()
        assert len(brandless) == 6  # the sign-in is recorded without a brand


def test_audit_actions_must_be_short_codes(db):
    with db.sessions() as session:
        for action in ("", "x" * 65):
            with pytest.raises(ValueError):
                audit.record(session, action)


def test_the_audit_module_only_appends():
    public = {name for name in vars(audit) if not name.startswith("_")}
    assert not {n for n in public if n.startswith(("update", "delete", "remove", "edit"))}


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture
def cli(db):
    def invoke(*args, input=None, env=None, expect=0):
        environment = {"TRACEMARK_DATABASE_URL": db.url, "TRACEMARK_INITIAL_PASSWORD": None}
        result = CliRunner().invoke(
            main, list(args), input=input, env={**environment, **(env or {})}
        )
        assert result.exit_code == expect, result.output
        return result.output

    return invoke


def test_users_create_prompts_twice_grants_the_role_and_audits(db, cli):
    demo = make_brand(db.sessions)
    email = new_email("Owner")
    output = cli(
        "users", "create", email, "--brand", demo.brand.slug, "--role", "owner",
        "--name", "Olga Owner",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert f"user {email.lower()} created: owner of {demo.brand.slug}" in output
    assert PASSWORD not in output
    with db.sessions() as session:
        user = accounts.authenticate(session, email, PASSWORD)
        assert user is not None and user.display_name == "Olga Owner"
        assert accounts.role_in(session, user, demo.brand.id) is Role.OWNER
        entry = audit.entries(session, demo.brand.id, 10)[0]
        assert entry.action == "user.create" and entry.object_id == str(user.id)
        assert entry.details == {"email": email.lower(), "role": "owner"}
        assert (entry.actor, entry.user_id) == ("cli", None)


def test_users_create_takes_the_password_from_the_environment(db, cli):
    demo = make_brand(db.sessions)
    email = new_email()
    cli(
        "users", "create", email, "--brand", demo.brand.slug, "--role", "staff",
        env={"TRACEMARK_INITIAL_PASSWORD": PASSWORD},
    )  # fmt: skip
    with db.sessions() as session:
        user = accounts.authenticate(session, email, PASSWORD)
        assert accounts.role_in(session, user, demo.brand.id) is Role.STAFF
        assert user.display_name == email.split("@")[0]


def test_users_create_refuses_bad_input_and_creates_nothing(db, cli):
    demo = make_brand(db.sessions)
    email = new_email()
    args = ("users", "create", email, "--brand", demo.brand.slug, "--role", "owner")
    # the confirmation differs: click asks again; then a short password is refused
    output = cli(*args, input=f"{PASSWORD}\nother password\nshort\nshort\n", expect=1)
    assert "password_too_short" in output
    assert "no brand" in cli(*args[:4], "no-such-brand", *args[5:], input="x\nx\n", expect=1)
    cli(*args[:-1], "admin", expect=2)
    with db.sessions() as session:
        assert session.scalar(select(User).where(User.email == email)) is None
        written = audit.entries(session, demo.brand.id, 10)
        assert [e for e in written if e.action == "user.create"] == []
