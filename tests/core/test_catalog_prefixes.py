"""GTIN ownership: brands hold GS1 company prefixes, and products fall under them."""

import secrets

import pytest

from tests.conftest import fresh_prefix, gtin_under
from tracemark import catalog
from tracemark.models import AuditLog, Product


def _brand(session):
    slug = f"p-{secrets.token_hex(4)}"
    return catalog.create_brand(session, slug, slug)


def test_a_held_prefix_binds_both_its_holder_and_every_other_brand(db):
    prefix = fresh_prefix()
    with db.sessions.begin() as session:
        mine, theirs = _brand(session), _brand(session)
        catalog.claim_prefix(session, mine, prefix)
        catalog.create_product(session, mine, gtin_under(prefix), "ours")
        with pytest.raises(catalog.ForeignGtin):
            catalog.create_product(session, theirs, gtin_under(prefix), "a copy")
        with pytest.raises(catalog.ForeignGtin):  # outside the holder's own prefixes
            catalog.create_product(session, mine, gtin_under(fresh_prefix()), "stray")
        entry = session.query(AuditLog).filter_by(action="brand.claim_prefix", brand_id=mine.id)
        assert entry.one().details == {"prefix": prefix}


def test_a_brand_holding_no_prefix_names_no_product(db):
    with db.sessions.begin() as session:
        newcomer = _brand(session)
        with pytest.raises(catalog.ForeignGtin):
            catalog.create_product(session, newcomer, gtin_under(fresh_prefix()), "unlicensed")
        assert session.query(Product).filter_by(brand_id=newcomer.id).count() == 0


def test_overlapping_or_used_prefixes_cannot_be_claimed(db):
    prefix = fresh_prefix()
    with db.sessions.begin() as session:
        mine, theirs, legacy = _brand(session), _brand(session), _brand(session)
        catalog.claim_prefix(session, mine, prefix)
        assert catalog.claim_prefix(session, mine, prefix).prefix == prefix  # idempotent
        for taken in (prefix, prefix + "1", prefix[:-1]):
            with pytest.raises(catalog.PrefixProblem) as raised:
                catalog.claim_prefix(session, theirs, taken)
            assert raised.value.code == "prefix_taken"
        used = fresh_prefix()
        # a product stored before brands held prefixes
        session.add(Product(brand_id=legacy.id, gtin=gtin_under(used), name="older", texts={}))
        session.flush()
        with pytest.raises(catalog.PrefixProblem) as raised:
            catalog.claim_prefix(session, theirs, used)
        assert raised.value.code == "prefix_in_use"
        for bad in ("123", "1234567890123", "12a4"):
            with pytest.raises(catalog.PrefixProblem) as raised:
                catalog.claim_prefix(session, theirs, bad)
            assert raised.value.code == "bad_prefix"


def test_the_command_line_records_a_prefix(db, settings):
    from click.testing import CliRunner

    from tracemark.cli import main

    prefix = fresh_prefix()
    with db.sessions.begin() as session:
        slug = _brand(session).slug
    env = {"TRACEMARK_DATABASE_URL": db.url, "TRACEMARK_SECRET_KEY": "test"}
    runner = CliRunner()
    result = runner.invoke(main, ["brand", "prefix", slug, prefix], env=env)
    assert result.exit_code == 0, result.output
    assert f"holds prefix {prefix}" in result.output
    refused = runner.invoke(main, ["brand", "prefix", slug, "12"], env=env)
    assert refused.exit_code == 2 and "4 to 12 digits" in refused.output


def test_no_codes_are_issued_for_a_gtin_under_another_brands_prefix(db):
    from tests.conftest import PASSPHRASE
    from tracemark.codes import issuance, keystore
    from tracemark.models import BrandPrefix

    prefix = fresh_prefix()
    with db.sessions.begin() as session:
        early, holder = _brand(session), _brand(session)
        keystore.create_key(session, early, PASSPHRASE)
        # registered before brands held prefixes, under a prefix nobody held then
        product = Product(brand_id=early.id, gtin=gtin_under(prefix), name="older", texts={})
        session.add(product)
        session.flush()
        batch = catalog.create_batch(session, product, "L1")
        assert issuance.create_job(session, batch, 1).requested == 1  # still nobody's
        session.add(BrandPrefix(brand_id=holder.id, prefix=prefix))  # (as held before 0022)
        session.flush()
        with pytest.raises(catalog.ForeignGtin):
            issuance.create_job(session, batch, 1)
