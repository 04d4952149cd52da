"""The regulator view and signed provenance statements, from the browser's side to the
offline verifier's."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from signing import KeyPurpose
from signing.statements import build_statement, sign_statement
from tests.conftest import PASSPHRASE
from tests.helpers.admin import ROLES, Catalog, signed_in
from tests.helpers.content import STATEMENT_PASSPHRASE, furnished, statement_settings
from tracemark.cli import main
from tracemark.codes import keystore
from tracemark.config import Settings
from tracemark.content import provenance
from tracemark.models import AuditLog, Batch, Brand, SigningKey
from tracemark.models.base import utcnow


@pytest.fixture
def settings(db) -> Settings:
    """The web app holds the statement passphrase and not the code-key passphrase."""
    return statement_settings(db)


@pytest.fixture
def cli(db):
    env = {
        "TRACEMARK_DATABASE_URL": db.url,
        "TRACEMARK_KEY_PASSPHRASE": PASSPHRASE,
        "TRACEMARK_STATEMENT_PASSPHRASE": STATEMENT_PASSPHRASE,
    }

    def invoke(*args, expect=0) -> str:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == expect, result.output
        return result.output

    return invoke


def _provenance(shop: Catalog, brand=None) -> str:
    return f"/admin/brands/{(brand or shop.brand).slug}/provenance"


def _statement_url(shop: Catalog) -> str:
    return f"{_provenance(shop)}/batches/{shop.batch_id}/statement.json"


def test_the_product_page_shows_origin_batches_reports_and_journey(app, shop, db, client):
    furnished(db, shop)
    regulator = signed_in(app, shop, "regulator")
    response = regulator.get(f"{_provenance(shop)}/products/{shop.product_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Jaén mill, Andalusia, Spain" in html
    assert f'data-batch="{shop.batch_id}" data-status="recalled"' in html
    assert "Return it to the shop." in html and "Pesticide screen" in html and "Lab SA" in html
    with db.sessions() as session:
        sha256 = _document_hash(session, shop.batch_id)
    assert f"<code data-sha256>{sha256}</code>" in html
    steps = re.findall(r'data-step="([^"]+)"', html)
    assert steps == ["commissioning", "shipping", "customs"]  # in time order
    link = re.search(r'href="(/documents/[^"]+)" download', html).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.headers["X-Content-SHA256"] == sha256
    assert "<script" not in html and "style=" not in html
    assert not re.search(r'<form[^>]*method="post"', html.split("admin-signout")[1])


def _document_hash(session, batch_id: int) -> str:
    from tracemark.models import Document

    return session.scalar(select(Document.sha256).where(Document.batch_id == batch_id))


def test_a_regulator_sees_only_the_brands_granted_to_them(app, shop, db):
    regulator = signed_in(app, shop, "regulator")
    html = regulator.get("/admin/provenance").get_data(as_text=True)
    assert f'data-brand="{shop.brand.slug}"' in html and shop.other.slug not in html
    other = _provenance(shop, shop.other)
    for path in (
        other,
        f"{other}/products/{shop.other_product_id}",
        f"{other}/batches/{shop.other_batch_id}/statement.json",
        # another brand's objects addressed under the granted brand
        f"{_provenance(shop)}/products/{shop.other_product_id}",
        f"{_provenance(shop)}/batches/{shop.other_batch_id}/statement.json",
        "/admin/brands/no-such-brand/provenance",
    ):
        assert regulator.get(path).status_code == 404, path
    assert _count(db, AuditLog, action="statement.issue", brand_id=shop.brand.id) == 0


@pytest.mark.parametrize("query", ["L2401A", "9506000134352", "09506000134352", " L2401A "])
def test_search_finds_batches_of_granted_brands_only(app, shop, query):
    # both brands have product 09506000134352 with lot L2401A
    for role, mine, theirs in (("regulator", shop.batch_id, shop.other_batch_id),
                               ("outsider", shop.other_batch_id, shop.batch_id)):  # fmt: skip
        html = signed_in(app, shop, role).get("/admin/provenance", query_string={"q": query})
        found = re.findall(r'<tr data-batch="(\d+)">', html.get_data(as_text=True))
        assert str(mine) in found and str(theirs) not in found, (role, query)


@pytest.mark.parametrize(
    "query", ["NOPE", "4006381333931", "x" * 500, "<script>", "%00", "L24\x0001A", "\x00", "é😀"]
)
def test_search_without_a_match_says_so(app, shop, query):
    response = signed_in(app, shop, "regulator").get("/admin/provenance", query_string={"q": query})
    assert response.status_code == 200 and "data-no-results" in response.get_data(as_text=True)


def test_every_member_of_the_brand_may_read_the_provenance(app, shop):
    for role in ROLES:
        status = signed_in(app, shop, role).get(_provenance(shop)).status_code
        assert status == (404 if role == "outsider" else 200), role


def _count(db, model, **where) -> int:
    with db.sessions() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return session.scalar(query)


def test_the_provenance_pages_only_read(app):
    """Nothing under the regulator view can change anything (what every role gets from
    every route, and that refused writes change nothing, is in test_route_walk)."""
    readers = [rule for rule in app.url_map.iter_rules() if "provenance" in rule.rule]
    assert readers and all(rule.methods <= {"GET", "HEAD", "OPTIONS"} for rule in readers)


def test_statement_round_trip_through_the_offline_verifier(app, shop, db, cli, tmp_path):
    furnished(db, shop)
    response = signed_in(app, shop, "regulator").get(_statement_url(shop))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=provenance-")
    statement_file = tmp_path / "statement.json"
    statement_file.write_bytes(response.get_data())
    keys_file = tmp_path / "keys.json"
    cli("keys", "export", "--brand", shop.brand.slug, "-o", str(keys_file))
    jwks = json.loads(keys_file.read_text())["keys"]
    assert sorted(key["tm_use"] for key in jwks) == ["code", "statement"]

    output = cli("verify-statement", str(statement_file), "--keys", str(keys_file))
    assert "lot L2401A  status recalled" in output and "Jaén mill, Andalusia, ES" in output
    assert "[en] Return it to the shop." in output and "Pesticide screen (Lab SA" in output
    assert output.rstrip().splitlines()[-1].startswith("verdict    valid (key ")
    [statement_kid] = [key["kid"] for key in jwks if key["tm_use"] == "statement"]
    with db.sessions() as session:
        actions = session.execute(
            select(AuditLog.action, AuditLog.details)
            .where(AuditLog.brand_id == shop.brand.id, AuditLog.actor.is_distinct_from("system"))
            .order_by(AuditLog.id)
        ).all()
    assert [action for action, _ in actions] == ["key.create", "statement.issue"]
    assert actions[1][1]["kid"] == statement_kid and actions[1][1]["statement_id"] in output
    keys_page = signed_in(app, shop, "owner").get(f"/admin/brands/{shop.brand.slug}/keys")
    assert f'data-kid="{statement_kid}" data-status="active" data-purpose="statement"' in (
        keys_page.get_data(as_text=True)
    )

    # one changed byte of what is signed
    document = json.loads(statement_file.read_text())
    i = len(document["payload"]) // 2
    swapped = "B" if document["payload"][i] == "A" else "A"
    document["payload"] = document["payload"][:i] + swapped + document["payload"][i + 1 :]
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    output = cli("verify-statement", str(tampered), "--keys", str(keys_file), expect=1)
    assert output == f"verdict    bad_signature (key {statement_kid})\n"  # states nothing

    # a second statement reuses the key; revoking it makes both verify as revoked
    again = signed_in(app, shop, "marketing").get(_statement_url(shop))
    assert again.status_code == 200 and _count(db, SigningKey, brand_id=shop.brand.id) == 2
    cli("keys", "revoke", statement_kid, "--reason", "web server compromised")
    cli("keys", "export", "--brand", shop.brand.slug, "-o", str(keys_file))
    output = cli("verify-statement", str(statement_file), "--keys", str(keys_file), expect=1)
    assert "lot L2401A" in output and f"revoked_key (key {statement_kid})" in output

    # the next statement gets a fresh key, which verifies
    fresh = signed_in(app, shop, "owner").get(_statement_url(shop))
    statement_file.write_bytes(fresh.get_data())
    cli("keys", "export", "--brand", shop.brand.slug, "-o", str(keys_file))
    output = cli("verify-statement", str(statement_file), "--keys", str(keys_file))
    assert "verdict    valid" in output and statement_kid not in output


def test_a_statement_signed_with_a_code_key_is_refused(shop, db, cli, tmp_path):
    with db.sessions() as session:
        brand = session.get(Brand, shop.brand.id)
        code_key = keystore.active_key(session, brand)
        private = keystore.private_key_of(code_key, PASSPHRASE)
        statement = build_statement(
            {"batch": {"lot": "L2401A"}}, brand=brand.slug, brand_name=brand.name,
            issued_at=utcnow(),
        )  # fmt: skip
        forged = tmp_path / "forged.json"
        forged.write_text(sign_statement(statement, private, code_key.kid))
        kid = code_key.kid
    keys_file = tmp_path / "keys.json"
    cli("keys", "export", "--brand", shop.brand.slug, "-o", str(keys_file))
    output = cli("verify-statement", str(forged), "--keys", str(keys_file), expect=1)
    assert output == f"verdict    wrong_key_purpose (key {kid})\n"


def test_a_statement_key_id_in_a_code_url_is_refused(shop, db, cli, client, tmp_path):
    from signing import build_url, sign_code

    cli("keys", "create", "--brand", shop.brand.slug, "--purpose", "statement")
    with db.sessions() as session:
        key = keystore.active_key(session, session.get(Brand, shop.brand.id), KeyPurpose.STATEMENT)
        private = keystore.private_key_of(key, STATEMENT_PASSPHRASE, KeyPurpose.STATEMENT)
        code = sign_code(private, key.kid, "09506000134352", "L2401A", "K7Q2M9XW4B3CD")
    url = build_url("https://tm.example.com", code)
    keys_file = tmp_path / "keys.json"
    cli("keys", "export", "--brand", shop.brand.slug, "-o", str(keys_file))
    assert cli("verify", url, "--keys", str(keys_file), expect=1).startswith("wrong_key_purpose")
    assert cli("verify", url, expect=1).startswith("wrong_key_purpose")
    answer = client.get("/api/v1/verify", query_string={"url": url}).get_json()
    assert (answer["verdict"], answer["reason"]) == ("not_genuine", "wrong_key_purpose")


def test_without_the_statement_passphrase_no_statement_and_nothing_written(shop, db):
    from tracemark.app import create_app

    settings = Settings(database_url=db.url, secret_key="test", key_passphrase=PASSPHRASE)
    app = create_app(settings, {"TESTING": True})
    try:
        response = signed_in(app, shop, "regulator").get(_statement_url(shop))
    finally:
        app.extensions["tracemark.engine"].dispose()
    assert response.status_code == 503
    assert response.get_json()["error"] == "statement_unavailable"
    assert _count(db, SigningKey, brand_id=shop.brand.id) == 1
    assert _count(db, AuditLog, action="statement.issue", brand_id=shop.brand.id) == 0


def test_the_verifier_types_files_it_cannot_trust(shop, db, cli, tmp_path):
    keys_file = tmp_path / "keys.json"
    cli("keys", "export", "--brand", shop.other.slug, "-o", str(keys_file))
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\xff not a statement")
    output = cli("verify-statement", str(garbage), "--keys", str(keys_file), expect=1)
    assert output == "verdict    malformed: not_a_jws\n"
    with db.sessions.begin() as session:
        batch = session.get(Batch, shop.batch_id)
        issued = provenance.issue_statement(session, batch, STATEMENT_PASSPHRASE)
    signed = tmp_path / "signed.json"
    signed.write_text(issued.text)
    # checked against another brand's key set: its key is unknown there
    output = cli("verify-statement", str(signed), "--keys", str(keys_file), expect=1)
    assert output == f"verdict    unknown_key (key {issued.kid})\n"
    keys_file.write_text("{}")
    assert "keys.json" in cli("verify-statement", str(signed), "--keys", str(keys_file), expect=1)
