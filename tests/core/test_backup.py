"""Encrypted backups: a round trip restores everything, keys included; a bad file or the
wrong passphrase changes nothing."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from tests.conftest import PASSPHRASE, POSTGRES_URL, make_brand
from tracemark import backup, catalog
from tracemark.cli import main
from tracemark.codes import issuance
from tracemark.codes.printing import batch_urls
from tracemark.codes.verify import Identity, check_url
from tracemark.db import make_engine, make_sessionmaker
from tracemark.models import Brand, SigningKey, Unit

SECRET = "backup passphrase"


@pytest.fixture
def target(db, tmp_path) -> Iterator[str]:
    """An empty database of the same kind to restore into."""
    if db.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"tm_restore_{secrets.token_hex(4)}"
    server = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield db.url.replace("/test?", f"/{name}?")
    finally:
        with server.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        server.dispose()


def _counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return tuple(
                connection.scalar(select(func.count()).select_from(model))
                for model in (Brand, SigningKey, Unit)
            )
    finally:
        engine.dispose()


def _sealed(db) -> bytes:
    out = io.BytesIO()
    backup.backup(db.engine, out, SECRET)
    return out.getvalue()


def _restore(url: str, data: bytes, passphrase: str = SECRET) -> dict:
    engine = make_engine(url)
    try:
        return backup.restore(engine, io.BytesIO(data), passphrase)
    finally:
        engine.dispose()


def test_a_restored_backup_holds_everything_and_its_codes_verify(db, demo, target):
    issuance.issue(db.sessions, demo.batch.id, 25, PASSPHRASE)
    with db.sessions() as session:
        code = next(iter(batch_urls(session, session.merge(demo.batch), "http://x")))[1]
    data = _sealed(db)
    assert data.startswith(backup.MAGIC) and b"Brand " not in data  # encrypted
    header = _restore(target, data)
    assert header["dialect"] == db.name
    assert _counts(target) == _counts(db.url)

    engine = make_engine(target)
    try:
        with make_sessionmaker(engine)() as session:
            assert check_url(session, code).identity is Identity.GENUINE
    finally:
        engine.dispose()


def test_restoring_replaces_what_was_there(db, demo, target):
    data = _sealed(db)
    _restore(target, data)
    engine = make_engine(target)
    try:
        with make_sessionmaker(engine).begin() as session:
            catalog.create_brand(session, "added-later", "Added later", "https://x.example")
    finally:
        engine.dispose()
    _restore(target, data)
    assert _counts(target) == _counts(db.url)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[:-1],  # one byte short
        lambda data: data + b"\0" * 16,  # extended
        lambda data: data[:-40] + bytes([data[-40] ^ 1]) + data[-39:],  # one bit flipped
        lambda data: data.replace(b'"dialect"', b'"Dialect"', 1),  # header edited
    ],
)
def test_a_damaged_backup_changes_nothing(db, demo, target, damage):
    data = _sealed(db)
    _restore(target, data)
    before = _counts(target)
    with pytest.raises(backup.BackupError):
        _restore(target, damage(data))
    assert _counts(target) == before


def test_the_wrong_passphrase_changes_nothing(db, demo, target):
    data = _sealed(db)
    _restore(target, data)
    before = _counts(target)
    with pytest.raises(backup.BackupError, match="wrong passphrase"):
        _restore(target, data, "not the passphrase")
    assert _counts(target) == before


def test_a_backup_of_another_kind_of_database_is_refused(db, tmp_path):
    other = "sqlite" if db.name == "postgresql" else "postgresql"
    data = _sealed(db).replace(f'"dialect":"{db.name}"'.encode(), f'"dialect":"{other}"'.encode())
    with pytest.raises(backup.BackupError, match="not"):
        _restore(db.url, data)


def test_backup_and_restore_from_the_command_line(db, demo, target, tmp_path):
    make_brand(db.sessions)
    file = tmp_path / "tracemark.backup"
    source = {"TRACEMARK_DATABASE_URL": db.url, "TRACEMARK_BACKUP_PASSPHRASE": SECRET}
    made = CliRunner().invoke(main, ["backup", "-o", str(file)], env=source)
    assert made.exit_code == 0, made.output
    assert list(tmp_path.glob(".*.part")) == []
    restore = {**source, "TRACEMARK_DATABASE_URL": target}
    done = CliRunner().invoke(main, ["restore", str(file), "--yes"], env=restore)
    assert done.exit_code == 0, done.output
    assert _counts(target) == _counts(db.url)

    wrong = {**restore, "TRACEMARK_BACKUP_PASSPHRASE": "wrong"}
    refused = CliRunner().invoke(main, ["restore", str(file), "--yes"], env=wrong)
    assert refused.exit_code == 1 and "the database was not changed" in refused.output
    assert "Traceback" not in refused.output
