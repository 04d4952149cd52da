"""The Dockerfile and compose file install and start what the tests exercise.

No Docker engine runs here, so the image's own start command (``CMD``) is run as it is,
from the repository root as the image's ``WORKDIR``: it must migrate an empty database
and serve a ready app, and the image's ``HEALTHCHECK`` address must answer. The compose
file may only set settings the code reads and run commands the CLI has.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from tracemark.cli import main as cli

ROOT = Path(__file__).parents[1]


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def _all(keyword: str) -> list[str]:
    return [argument for instruction, argument in _instructions() if instruction == keyword]


def test_the_image_holds_every_package_and_what_the_app_reads():
    copied = set()
    for argument in _all("COPY"):
        copied.update(part.rstrip("/") for part in argument.split()[:-1])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    found = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {name.rstrip("*") for name in found}
    needed = packages | {
        "pyproject.toml",
        "README.md",
        "gunicorn.conf.py",
        "static",
        "translations",
    }
    assert needed <= copied, f"not copied into the image: {sorted(needed - copied)}"


def test_the_image_installs_the_project_as_the_quick_start_does():
    (install,) = [run for run in _all("RUN") if "pip install" in run]
    readme = (ROOT / "README.md").read_text()
    demo = re.search(r"```sh\n(.*tracemark demo)\n```", readme).group(1)
    target = re.search(r"pip install (?:-q )?(-e \S+)", demo).group(1)
    assert f"pip install {target}" in install


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def test_the_start_command_migrates_an_empty_database_and_serves(tmp_path):
    (cmd,) = _all("CMD")
    argv = json.loads(cmd)
    (healthcheck,) = _all("HEALTHCHECK")
    probe = re.search(r"(http://127\.0\.0\.1:8000/\S+?)['\"]", healthcheck).group(1)
    port = _free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "TRACEMARK_MIGRATE_ON_START": "1",
        "TRACEMARK_DATABASE_URL": f"sqlite:///{tmp_path / 'image.db'}",
        "TRACEMARK_BIND": f"127.0.0.1:{port}",
        "TRACEMARK_WORKERS": "1",
        "TRACEMARK_SECRET_KEY": "image-test-secret",
        "TRACEMARK_KEY_PASSPHRASE": "image-test-passphrase",
        "TRACEMARK_PIN_SECRET": "image-test-pin-secret",
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while _status(f"{base}/readyz") != 200:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.2)
        assert _status(probe.replace("http://127.0.0.1:8000", base)) == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=40)
        log.close()
    assert server.returncode == 0  # a graceful stop


def _read_settings() -> set[str]:
    """Every TRACEMARK_* name the code, the gunicorn config and the Dockerfile mention."""
    sources = [*ROOT.glob("tracemark/**/*.py"), ROOT / "gunicorn.conf.py", ROOT / "Dockerfile"]
    return {name for path in sources for name in re.findall(r"TRACEMARK_[A-Z_]+", path.read_text())}


def test_compose_sets_only_settings_the_code_reads_and_runs_real_commands():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    known = _read_settings()
    for name in ("web", "worker"):
        service = services[name]
        assert service["build"] == "."
        settings = {key for key in service["environment"] if key.startswith("TRACEMARK_")}
        assert settings <= known, f"{name}: settings nothing reads: {sorted(settings - known)}"
        assert service["environment"]["TRACEMARK_DATABASE_URL"].startswith("postgresql://")
    command = services["worker"]["command"]
    assert command[0] == "tracemark" and command[1] in cli.commands
    assert services["web"]["environment"]["TRACEMARK_MIGRATE_ON_START"] == "1"
