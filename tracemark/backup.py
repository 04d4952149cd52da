"""Encrypted backups of the whole database (brand data, units, scans, and the signing keys,
whose private halves stay encrypted under the key passphrase inside it).

A backup is a database's own snapshot — ``pg_dump --format=custom`` for PostgreSQL, the
SQLite online backup API (consistent even while the app writes) — sealed in a stream of
AES-256-GCM chunks under a key derived by scrypt from the backup passphrase:

    TMBACKUP1\\n  header (one JSON line: kdf parameters, salt, dialect, revision, time)
    chunks: 4-byte big-endian length, then ciphertext of up to 1 MiB of plaintext

Each chunk's nonce is its index, with a flag on the last one, and the header is
authenticated with every chunk: a reordered, truncated, extended or edited file fails.
The key is fresh for every file (a random salt), so counter nonces never repeat under it.
A restore decrypts and authenticates the whole file before it touches the database, and
then applies it in one transaction (PostgreSQL) or by one atomic file replacement
(SQLite): a bad file changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from tracemark import migrate

MAGIC = b"TMBACKUP1\n"
CHUNK = 1 << 20
#: scrypt cost: about 0.1 s and 32 MiB to try one passphrase.
KDF = {"n": 1 << 15, "r": 8, "p": 1}


class BackupError(Exception):
    """A backup that cannot be made or restored; the message says why, for an operator."""


def backup(engine: Engine, out: BinaryIO, passphrase: str) -> dict:
    """Write an encrypted backup of the database at ``engine`` to ``out``; returns its header."""
    if not passphrase:
        raise BackupError("a backup needs a passphrase")
    header = {
        "dialect": engine.dialect.name,
        "revision": migrate.current_revision(engine),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "kdf": {"name": "scrypt", **KDF, "salt": secrets.token_hex(16)},
        "cipher": "AES-256-GCM",
        "chunk": CHUNK,
    }
    with tempfile.TemporaryDirectory(prefix="tracemark-backup-") as folder:
        snapshot = Path(folder) / "snapshot"
        if engine.dialect.name == "postgresql":
            _pg_dump(engine.url, snapshot)
        else:
            _sqlite_snapshot(_sqlite_path(engine.url), snapshot)
        with snapshot.open("rb") as plain:
            _seal(plain, out, passphrase, header)
    return header


def read_header(source: BinaryIO) -> dict:
    """The header of a backup (unauthenticated until the chunks are opened)."""
    if source.read(len(MAGIC)) != MAGIC:
        raise BackupError("not a Tracemark backup")
    try:
        return json.loads(source.readline(4096))
    except ValueError as exc:
        raise BackupError("the backup's header is damaged") from exc


def restore(engine: Engine, source: BinaryIO, passphrase: str) -> dict:
    """Replace the database at ``engine`` with the backup in ``source``; returns its header.

    :raises BackupError: wrong passphrase, damaged or truncated file, another database
        kind, or a failed restore — in every case the database is left as it was.
    """
    header = read_header(source)
    if header.get("dialect") != engine.dialect.name:
        raise BackupError(
            f"this backup is of a {header.get('dialect')} database, not {engine.dialect.name}"
        )
    with tempfile.TemporaryDirectory(prefix="tracemark-restore-") as folder:
        snapshot = Path(folder) / "snapshot"
        with snapshot.open("wb") as plain:
            for piece in _open(source, passphrase, header):
                plain.write(piece)
        if engine.dialect.name == "postgresql":
            _pg_restore(engine.url, snapshot)
        else:
            engine.dispose()
            _sqlite_replace(snapshot, _sqlite_path(engine.url))
    return header


# -- the sealed stream ------------------------------------------------------------------------


def _key(passphrase: str, header: dict) -> AESGCM:
    kdf = header["kdf"]
    if kdf.get("name") != "scrypt":
        raise BackupError("unknown key derivation in the backup")
    scrypt = Scrypt(salt=bytes.fromhex(kdf["salt"]), length=32, n=kdf["n"], r=kdf["r"], p=kdf["p"])
    return AESGCM(scrypt.derive(passphrase.encode("utf-8")))


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _header_bytes(header: dict) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def _seal(plain: BinaryIO, out: BinaryIO, passphrase: str, header: dict) -> None:
    aead, aad = _key(passphrase, header), _header_bytes(header)
    out.write(MAGIC + aad)
    index, piece = 0, plain.read(CHUNK)
    while True:
        following = plain.read(CHUNK)
        sealed = aead.encrypt(_nonce(index, not following), piece, aad)
        out.write(len(sealed).to_bytes(4, "big") + sealed)
        if not following:
            return
        index, piece = index + 1, following


def _open(source: BinaryIO, passphrase: str, header: dict) -> Iterator[bytes]:
    aead, aad = _key(passphrase, header), _header_bytes(header)
    index = 0
    while True:
        size = source.read(4)
        if len(size) < 4:
            raise BackupError("the backup is truncated")
        sealed = source.read(int.from_bytes(size, "big"))
        last = source.peek(1) == b"" if hasattr(source, "peek") else _at_end(source)
        try:
            yield aead.decrypt(_nonce(index, last), sealed, aad)
        except InvalidTag:
            raise BackupError(
                "the backup cannot be opened: wrong passphrase, or a damaged or truncated file"
            ) from None
        if last:
            return
        index += 1


def _at_end(source: BinaryIO) -> bool:
    here = source.tell()
    end = source.seek(0, os.SEEK_END)
    source.seek(here)
    return here == end


# -- PostgreSQL -------------------------------------------------------------------------------


def _pg_arguments(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments and environment for pg_dump/pg_restore, from the app's URL
    (the password travels in the environment, never on a command line)."""
    arguments = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432)]
    if url.username:
        arguments += ["--username", url.username]
    arguments += ["--dbname", url.database or "postgres", "--no-password"]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return arguments, env


def _schema(url: URL) -> str | None:
    """The schema a ``-csearch_path=…`` connection option confines the app to, if any."""
    options = url.query.get("options") or ""
    for option in (options if isinstance(options, str) else " ".join(options)).split():
        if option.startswith("-csearch_path="):
            return option.removeprefix("-csearch_path=").split(",")[0]
    return None


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (PostgreSQL's client tools are needed)")
    return found


def _pg_dump(url: URL, target: Path) -> None:
    arguments, env = _pg_arguments(url)
    schema = _schema(url)
    scope = ["--schema", schema] if schema else []
    command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", *scope]
    _run([*command, *arguments, "--file", str(target)], env, "pg_dump")


def _pg_restore(url: URL, snapshot: Path) -> None:
    arguments, env = _pg_arguments(url)
    command = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges"]
    _run([*command, "--single-transaction", *arguments, str(snapshot)], env, "pg_restore")


def _run(command: list[str], env: dict[str, str], name: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{name} failed: {done.stderr.strip()[-500:]}")


# -- SQLite -----------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _sqlite_snapshot(database: Path, target: Path) -> None:
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def _sqlite_replace(snapshot: Path, database: Path) -> None:
    """Put ``snapshot`` in place of ``database`` by one rename, after checking it, and
    after emptying the old database's write-ahead log so it cannot be replayed onto the
    new file. The app must not be running."""
    check = sqlite3.connect(snapshot)
    try:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("the restored SQLite database fails its integrity check")
    finally:
        check.close()
    database.parent.mkdir(parents=True, exist_ok=True)
    staged = database.with_name(f".{database.name}.restoring")
    shutil.copyfile(snapshot, staged)
    if database.exists():
        old = sqlite3.connect(database)
        try:
            old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            old.close()
    os.replace(staged, database)
    for stale in (database.with_name(database.name + suffix) for suffix in ("-wal", "-shm")):
        stale.unlink(missing_ok=True)
