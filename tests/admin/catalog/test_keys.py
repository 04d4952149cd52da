from sqlalchemy import select

from signing import Status, build_url, parse_and_verify
from tests.conftest import PASSPHRASE
from tests.helpers.admin import ROLES, Catalog, base, post_form, signed_in
from tracemark.codes import issuance, keystore
from tracemark.codes.printing import batch_codes
from tracemark.models import AuditLog, SigningKey


def _kid(db, shop: Catalog):
    with db.sessions() as session:
        return session.scalars(
            select(SigningKey.kid).where(SigningKey.brand_id == shop.brand.id)
        ).one()


def test_every_member_sees_the_keys_and_only_owners_get_the_forms(app, shop, db):
    kid = _kid(db, shop)
    for role in ROLES:
        response = signed_in(app, shop, role).get(f"{base(shop)}/keys")
        if role == "outsider":
            assert response.status_code == 404
            continue
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and f'data-kid="{kid}"' in html
        assert ("/revoke" in html) == (role == "owner")
        assert "tracemark keys create --brand" in html


def test_revoking_needs_a_reason_is_audited_and_flags_existing_codes(app, shop, db):
    kid = _kid(db, shop)
    issuance.issue(db.sessions, shop.batch_id, 2, PASSPHRASE)
    client = signed_in(app, shop)
    page = f"{base(shop)}/keys"
    refused = post_form(client, page, f"{page}/{kid}/revoke", {"reason": " "})
    assert refused.status_code == 400
    done = post_form(client, page, f"{page}/{kid}/revoke", {"reason": "label printer stolen"})
    assert done.status_code == 303
    with db.sessions() as session:
        key = keystore.get_key(session, kid)
        assert (key.status.value, key.revocation_reason) == ("revoked", "label printer stolen")
        entry = session.scalars(
            select(AuditLog).where(
                AuditLog.action == "key.revoke", AuditLog.brand_id == shop.brand.id
            )
        ).one()
        assert entry.details["kid"] == kid
        batch = session.get(type(key).brand.property.mapper.class_, shop.brand.id)
        ring = keystore.load_keyring(session)
        from tracemark.models import Batch

        codes = [code for code, _pin in batch_codes(session, session.get(Batch, shop.batch_id))]
    assert batch is not None and codes
    assert (
        parse_and_verify(build_url("https://t.example", codes[0]), ring).status
        is Status.REVOKED_KEY
    )


def test_staff_cannot_retire_or_revoke_and_foreign_keys_are_not_found(app, shop, db):
    kid = _kid(db, shop)
    page = f"{base(shop)}/keys"
    staff = signed_in(app, shop, "staff")
    assert post_form(staff, page, f"{page}/{kid}/retire", {}).status_code == 403
    owner = signed_in(app, shop)
    assert post_form(owner, page, f"{page}/NOPE2/retire", {}).status_code == 404
    assert post_form(owner, page, f"{page}/{kid}/retire", {}).status_code == 303
    with db.sessions() as session:
        assert keystore.get_key(session, kid).status.value == "retired"


def test_an_owner_asks_for_a_key_once_and_the_worker_makes_it(app, shop, db, idle_queue):
    from tracemark import worker as jobs
    from tracemark.models import KeyRequest, KeyRequestStatus

    old = _kid(db, shop)
    page = f"{base(shop)}/keys"
    owner = signed_in(app, shop)
    for _click in range(2):  # a double submit asks once
        assert post_form(owner, page, f"{page}/requests", {}).status_code == 303
    html = owner.get(page).get_data(as_text=True)
    assert 'data-status="pending"' in html
    staff = signed_in(app, shop, "staff")
    assert post_form(staff, page, f"{page}/requests", {}).status_code == 403
    with db.sessions() as session:
        assert session.scalars(
            select(KeyRequest.status).where(KeyRequest.brand_id == shop.brand.id)
        ).all() == [KeyRequestStatus.PENDING]
    assert jobs.run_worker(db.sessions, PASSPHRASE, once=True) == 1
    with db.sessions() as session:
        keys = session.scalars(
            select(SigningKey).where(SigningKey.brand_id == shop.brand.id).order_by(SigningKey.id)
        ).all()
    assert [key.kid for key in keys] == [old, keys[1].kid]
    html = owner.get(page).get_data(as_text=True)
    assert 'data-status="done"' in html and keys[1].kid in html


def test_a_nul_character_in_a_form_is_a_clean_400_and_nothing_changes(app, shop, db):
    kid = _kid(db, shop)
    page = f"{base(shop)}/keys"
    refused = post_form(signed_in(app, shop), page, f"{page}/{kid}/revoke", {"reason": "a\x00b"})
    assert refused.status_code == 400
    assert "contains a character that is not allowed" in refused.get_data(as_text=True)
    with db.sessions() as session:
        assert keystore.get_key(session, kid).status.value == "active"
