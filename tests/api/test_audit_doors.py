"""Whichever door an action comes through — the admin app, the integration API or the
CLI — it leaves the same audit entry (action, object, details, brand), told apart only by
its actor: the operations write their own entries, the faces write none."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.conftest import PASSPHRASE
from tests.helpers.admin import PASSWORD, csrf_token
from tests.helpers.api import Tenant, make_tenant
from tracemark.accounts import users as accounts
from tracemark.cli import main
from tracemark.codes import issuance, keystore
from tracemark.models import AuditLog, Batch, Brand, JobStatus, Role

FACES = Path(__file__).resolve().parents[2]


@pytest.fixture
def door(db, tmp_path, app):
    """A brand reached through every door: an owner signed in to the admin app, API
    tokens, and the CLI on the same database."""
    tenant = make_tenant(db.sessions)
    email = f"owner-{tenant.slug}@example.com"
    with db.sessions.begin() as session:
        user = accounts.create_user(session, email, PASSWORD, "Owner")
        accounts.grant(session, user, session.get_one(Brand, tenant.demo.brand.id), Role.OWNER)
    admin = app.test_client()
    token = csrf_token(admin)
    answer = admin.post("/admin/login", data={"csrf_token": token, "email": email,
                                              "password": PASSWORD})  # fmt: skip
    assert answer.status_code == 302
    env = {
        "TRACEMARK_DATABASE_URL": db.url,
        "TRACEMARK_KEY_PASSPHRASE": PASSPHRASE,
        "TRACEMARK_LABEL_DIR": str(tmp_path / "labels"),
    }

    def cli(*args: str) -> str:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    return Door(db, tenant, admin, cli)


class Door:
    def __init__(self, db, tenant: Tenant, admin, cli) -> None:
        self.db, self.tenant, self.admin, self.cli = db, tenant, admin, cli
        self.slug = tenant.slug
        self.brand_id = tenant.demo.brand.id

    def admin_post(self, path: str, data: dict, page: str):
        """Post ``data`` to the brand's admin ``path`` with the CSRF token of ``page``."""
        html = self.admin.get(page).get_data(as_text=True)
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        token = found.group(1) if found else csrf_token(self.admin, "/admin/")
        return self.admin.post(f"/admin/brands/{self.slug}{path}", data={"csrf_token": token,
                                                                          **data})  # fmt: skip

    def entries(self, action: str) -> list[AuditLog]:
        """The brand's ``action`` entries written by someone (not the fixtures' setup)."""
        with self.db.sessions() as session:
            query = (
                select(AuditLog)
                .where(
                    AuditLog.brand_id == self.brand_id,
                    AuditLog.action == action,
                    AuditLog.actor.is_distinct_from("system"),
                )
                .order_by(AuditLog.id)
            )
            return list(session.scalars(query))


def _same_but_actor(entries: list[AuditLog]) -> set:
    return {(e.action, e.object_type, e.brand_id, repr(sorted(e.details.items()))) for e in entries}


def _token_prefix(token: str) -> str:
    return token.split("_")[1]


def test_a_batch_created_through_each_door_is_audited_alike(door):
    gtin = door.tenant.demo.product.gtin
    answer = door.admin_post(
        "/batches", {"product": door.tenant.demo.product.id, "lot": "DOOR-A", "site": "0"},
        page=f"/admin/brands/{door.slug}/batches",
    )  # fmt: skip
    assert answer.status_code == 302
    api = door.tenant
    answer = door.admin.application.test_client().post(
        api.url("batches"), headers=api.headers("issue"), json={"gtin": gtin, "lot": "DOOR-B"}
    )
    assert answer.status_code == 201
    door.cli("batch", "create", "--brand", door.slug, "--gtin", gtin, "DOOR-C")

    admin, via_api, via_cli = door.entries("batch.create")
    for entry, lot in ((admin, "DOOR-A"), (via_api, "DOOR-B"), (via_cli, "DOOR-C")):
        assert entry.object_type == "batch" and entry.details == {"lot": lot, "gtin": gtin}
        with door.db.sessions() as session:
            assert session.get_one(Batch, int(entry.object_id)).lot == lot
    assert (admin.actor, admin.user_id is not None) == ("user", True)
    assert (via_api.actor, via_api.user_id) == (f"token:{_token_prefix(api.tokens['issue'])}", None)
    assert (via_cli.actor, via_cli.user_id) == ("cli", None)


def test_codes_queued_through_each_door_are_audited_alike(door):
    batch = door.tenant.demo.batch
    html = door.admin.get(f"/admin/brands/{door.slug}/batches/{batch.id}").get_data(as_text=True)
    request_key = re.search(r'name="request_key" type="hidden" value="([0-9a-f]{32})"', html)
    answer = door.admin_post(
        f"/batches/{batch.id}/jobs",
        {"count": "5", "request_key": request_key.group(1)},
        page=f"/admin/brands/{door.slug}/batches/{batch.id}",
    )
    assert answer.status_code == 303
    api = door.tenant
    answer = door.admin.application.test_client().post(
        api.url(f"batches/{batch.lot}/issuance"), headers=api.headers("issue"), json={"count": 5}
    )
    assert answer.status_code == 202
    door.cli("issue", batch.lot, "--count", "5", "--brand", door.slug, "--queue")

    entries = door.entries("issuance.queue")
    assert [entry.actor for entry in entries] == [
        "user",
        f"token:{_token_prefix(api.tokens['issue'])}",
        "cli",
    ]
    assert _same_but_actor(entries) == {
        ("issuance.queue", "issuance_job", door.brand_id,
         repr(sorted({"lot": batch.lot, "count": 5, "with_pin": False}.items())))
    }  # fmt: skip
    assert len({entry.object_id for entry in entries}) == 3  # three jobs, one entry each


def test_keys_retired_and_revoked_in_the_admin_app_or_the_cli_are_audited_alike(door):
    keys = f"/admin/brands/{door.slug}/keys"
    first = door.tenant.demo.kid
    assert door.admin_post(f"/keys/{first}/retire", {}, page=keys).status_code == 303
    with door.db.sessions.begin() as session:
        brand = session.get_one(Brand, door.brand_id)
        second = keystore.create_key(session, brand, PASSPHRASE).kid
        third = keystore.create_key(session, brand, PASSPHRASE).kid
    door.cli("keys", "retire", second)
    reason = "label printer stolen"
    answer = door.admin_post(f"/keys/{first}/revoke", {"reason": reason}, page=keys)
    assert answer.status_code == 303
    door.cli("keys", "revoke", third, "--reason", reason)

    retired = door.entries("key.retire")
    assert [(e.actor, e.details) for e in retired] == [
        ("user", {"kid": first}),
        ("cli", {"kid": second}),
    ]
    revoked = door.entries("key.revoke")
    assert [(e.actor, e.details) for e in revoked] == [
        ("user", {"kid": first, "reason": reason}),
        ("cli", {"kid": third, "reason": reason}),
    ]
    assert {e.object_type for e in retired + revoked} == {"signing_key"}


def test_tokens_made_and_revoked_in_the_admin_app_or_the_cli_are_audited_alike(door):
    page = f"/admin/brands/{door.slug}/tokens"
    answer = door.admin_post("/tokens", {"name": "ERP", "read": "y"}, page=page)
    assert answer.status_code == 200
    door.cli("tokens", "create", "--brand", door.slug, "--name", "ERP", "--scope", "read")
    made = door.entries("token.create")
    assert [entry.actor for entry in made] == ["user", "cli"]
    assert [sorted(entry.details) for entry in made] == [["name", "prefix", "scopes"]] * 2
    assert {(entry.details["name"], entry.details["scopes"]) for entry in made} == {("ERP", "read")}
    for entry in made:
        prefix = entry.details["prefix"]
        if entry.actor == "user":
            answer = door.admin_post(f"/tokens/{prefix}/revoke", {}, page=page)
            assert answer.status_code in (200, 303)
        else:
            door.cli("tokens", "revoke", prefix)
    revoked = door.entries("token.revoke")
    assert [(e.actor, e.details) for e in revoked] == [
        (made[0].actor, {"prefix": made[0].details["prefix"], "name": "ERP"}),
        (made[1].actor, {"prefix": made[1].details["prefix"], "name": "ERP"}),
    ]


def test_no_face_writes_the_audit_log_itself():
    """The admin app, the API and the portal call operations; none records an entry."""
    writes = re.compile(r"\b(audit\.(record|log)|member\.record|AuditLog\()")
    found = [
        f"{path.relative_to(FACES)}:{number}"
        for face in ("admin", "api", "portal")
        for path in sorted((FACES / face).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if writes.search(line)
    ]
    assert found == []


def test_a_job_resumed_in_the_admin_app_or_the_cli_is_audited_alike(door):
    with door.db.sessions.begin() as session:
        batch = session.get_one(Batch, door.tenant.demo.batch.id)
        jobs = [issuance.create_job(session, batch, 3) for _ in range(2)]
        for job in jobs:
            job.status = JobStatus.FAILED
        first, second = (job.id for job in jobs)
    page = f"/admin/brands/{door.slug}/batches/{batch.id}"
    assert door.admin_post(f"/jobs/{first}/resume", {}, page=page).status_code == 303
    door.cli("issue", batch.lot, "--resume", str(second))
    resumed = door.entries("issuance.resume")
    assert [(e.actor, e.object_id, e.details) for e in resumed] == [
        ("user", str(first), {"issued": 0}),
        ("cli", str(second), {"issued": 0}),
    ]
