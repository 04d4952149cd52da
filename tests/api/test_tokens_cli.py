"""``tracemark tokens``: create (the token printed once), list, revoke; each audited."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.helpers.api import bearer
from tracemark.cli import main
from tracemark.models import AuditLog


@pytest.fixture
def run(db):
    env = {"TRACEMARK_DATABASE_URL": db.url}

    def invoke(*args, expect=0):
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == expect, result.output
        return result.output

    return invoke


def test_create_list_use_and_revoke(db, run, demo, client):
    slug = demo.brand.slug
    token = run("tokens", "create", "--brand", slug, "--name", "SAP", "--scope", "read").strip()
    assert re.fullmatch(r"tm_[a-z0-9]{12}_[A-Za-z0-9_-]{43}", token)
    prefix = token.split("_")[1]
    listed = run("tokens", "list", "--brand", slug)
    assert f"{prefix}\t{slug}\tSAP\tread\tactive\tnever" in listed
    assert token not in listed
    url = f"/api/v1/brands/{slug}/events"
    assert client.get(url, headers=bearer(token)).status_code == 200
    assert "revoked" in run("tokens", "revoke", prefix)
    assert client.get(url, headers=bearer(token)).status_code == 401
    assert f"{prefix}\t{slug}\tSAP\tread\trevoked" in run("tokens", "list")
    with db.sessions() as session:
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.brand_id == demo.brand.id).order_by(AuditLog.id)
        ).all()
    assert actions[-2:] == ["token.create", "token.revoke"]


def test_refusals(run, demo):
    slug = demo.brand.slug
    run("tokens", "create", "--brand", slug, "--name", "x", "--scope", "write", expect=2)
    run("tokens", "create", "--brand", slug, "--name", " ", "--scope", "read", expect=1)
    run("tokens", "create", "--brand", "no-such", "--name", "x", "--scope", "read", expect=1)
    run("tokens", "revoke", "000000000000", expect=1)
