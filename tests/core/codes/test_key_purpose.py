"""Key purposes: statement keys live beside code keys and never sign codes."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from signing import KeyPurpose, KeyStatus
from tests.conftest import PASSPHRASE
from tracemark import migrate
from tracemark.codes import issuance, keystore
from tracemark.content import provenance
from tracemark.db import make_engine
from tracemark.models import Batch, Brand

STATEMENT_PASSPHRASE = "another-passphrase"


def test_a_statement_key_never_becomes_the_active_code_key(db, demo):
    with db.sessions.begin() as session:
        brand = session.get(Brand, demo.brand.id)
        statement_key = keystore.create_key(
            session, brand, STATEMENT_PASSPHRASE, KeyPurpose.STATEMENT
        )
        # the newest key of all, yet issuance still picks the code key, which stays active
        assert keystore.active_key(session, brand).kid == demo.kid
        job = issuance.create_job(session, session.get(Batch, demo.batch.id), 5)
        assert job.signing_key.kid == demo.kid
        with pytest.raises(keystore.KeyStateError):
            keystore.private_key_of(statement_key, STATEMENT_PASSPHRASE)  # not for codes
        with pytest.raises(keystore.KeyStateError):
            keystore.private_key_of(job.signing_key, PASSPHRASE, KeyPurpose.STATEMENT)
        # rotating one purpose leaves the other alone
        new_code = keystore.create_key(session, brand, PASSPHRASE)
        assert statement_key.status is KeyStatus.ACTIVE
        assert keystore.active_key(session, brand, KeyPurpose.STATEMENT) is statement_key
        new_statement = keystore.create_key(
            session, brand, STATEMENT_PASSPHRASE, KeyPurpose.STATEMENT
        )
        assert statement_key.status is KeyStatus.RETIRED
        assert new_code.status is KeyStatus.ACTIVE
        assert keystore.statement_key(session, brand, STATEMENT_PASSPHRASE) == (
            new_statement,
            False,
        )
        ring = keystore.load_keyring(session, brand)
        assert ring.get(new_statement.kid).purpose is KeyPurpose.STATEMENT
        assert ring.get(demo.kid).purpose is KeyPurpose.CODE


def test_a_statement_is_signed_without_the_code_passphrase(db, demo):
    with db.sessions.begin() as session:
        batch = session.get(Batch, demo.batch.id)
        issued = provenance.issue_statement(session, batch, STATEMENT_PASSPHRASE)
        assert issued.key_created and issued.kid != demo.kid
        again = provenance.issue_statement(session, batch, STATEMENT_PASSPHRASE)
        assert (again.kid, again.key_created) == (issued.kid, False)
        assert again.statement_id != issued.statement_id
        with pytest.raises(ValueError):  # a wrong passphrase does not decrypt the key
            provenance.issue_statement(session, batch, PASSPHRASE)


def test_existing_keys_become_code_keys_and_other_purposes_are_refused(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.migrate_to(engine, "0007")  # the revision before key purposes
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO brand (id, slug, name, created_at) VALUES (1, 'b', 'B', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO signing_key (id, brand_id, kid, public_key, status, created_at)"
                " VALUES (1, 1, 'OLDKY', :key, 'active', '2026-01-01')"
            ),
            {"key": bytes(32)},
        )
    migrate.migrate_to(engine)
    with engine.connect() as connection:
        purpose = connection.execute(text("SELECT purpose FROM signing_key")).scalar_one()
        assert purpose == "code"
        with pytest.raises(IntegrityError):
            connection.execute(text("UPDATE signing_key SET purpose = 'anything'"))
    migrate.migrate_to(engine, "0007")  # the revision before key purposes
    with engine.connect() as connection:
        columns = [row[1] for row in connection.execute(text("PRAGMA table_info(signing_key)"))]
        assert "purpose" not in columns
    engine.dispose()


def test_the_purpose_check_holds_on_every_backend(db, demo):
    with db.engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(text("UPDATE signing_key SET purpose = 'anything'"))
