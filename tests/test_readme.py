"""The README's quick start is what CI and the Dockerfile really run."""

import re
import shlex
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def _commands(title: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", _section(title), re.S)


def _pytest_arguments(command: str) -> list[str]:
    words = shlex.split(command.rsplit("&&", 1)[-1])
    assert words[:3] == [".venv/bin/python", "-m", "pytest"], command
    return words[3:]


def test_quick_start_is_two_commands():
    commands = _commands("Quick start")
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    assert commands[0].endswith("tracemark demo")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _commands("Quick start")[1] in ci


def test_the_quick_subset_is_the_ci_run_without_the_slow_tests():
    everything = _pytest_arguments(_commands("Quick start")[1])
    (quick,) = _commands("Tests")
    assert _pytest_arguments(quick) == [*everything, "-m", "not slow"]


def test_the_parallel_run_is_installed_by_the_test_extra():
    arguments = _pytest_arguments(_commands("Quick start")[1])
    assert arguments[arguments.index("-n") + 1] == "2"
    assert arguments[arguments.index("--dist") + 1] == "loadfile"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    test_extra = project["optional-dependencies"]["test"]
    assert any(re.match(r"pytest-xdist\b", requirement) for requirement in test_extra)
