"""A disk that fills while labels render: a clear error, and no partial file published.

The disk is a real one that fills: a 128 KiB tmpfs mounted for the test (root only; CI
runs as root and sets TRACEMARK_REQUIRE_FAULTS=1, which makes a skip a failure).
"""

from __future__ import annotations

import os
import subprocess

import pytest
from click.testing import CliRunner

from tests.conftest import PASSPHRASE
from tracemark.cli import main
from tracemark.codes import issuance

pytestmark = pytest.mark.fault


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        if os.environ.get("TRACEMARK_REQUIRE_FAULTS") == "1":
            pytest.fail(f"cannot mount a small disk: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a small disk (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


#: Labels enough to pass 128 KiB in each format (about 1.3 KB a PDF label, 150 bytes a CSV row).
COUNTS = {"pdf": 200, "png": 300, "csv": 1500}


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # the disk's fault, not the database's
@pytest.mark.parametrize("fmt", COUNTS)
def test_labels_on_a_full_disk_fail_cleanly_and_leave_nothing(db, demo, small_disk, fmt):
    issuance.issue(db.sessions, demo.batch.id, COUNTS[fmt], PASSPHRASE)
    env = {"TRACEMARK_DATABASE_URL": db.url, "TRACEMARK_KEY_PASSPHRASE": PASSPHRASE}
    target = small_disk / f"labels.{fmt}"
    args = ["labels", demo.batch.lot, "--brand", demo.brand.slug, "--format", fmt]
    result = CliRunner().invoke(main, [*args, "-o", str(target)], env=env)
    assert result.exit_code == 1, result.output
    assert "No space left on device; nothing written" in result.output
    assert "Traceback" not in result.output
    assert list(small_disk.iterdir()) == []  # neither the file nor its partial copy

    # the same command with room to write succeeds (the failure was the disk's)
    roomy = small_disk.parent / f"labels.{fmt}"
    assert CliRunner().invoke(main, [*args, "-o", str(roomy)], env=env).exit_code == 0
    assert roomy.stat().st_size > 128 * 1024
