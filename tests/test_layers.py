"""The layering that docs/architecture.md draws, checked on the sources: ``signing`` is
pure, the core's domain code imports no Flask, nothing imports a web face but the app
factory, and the faces never import each other."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
OURS = ("signing", "tracemark", "portal", "admin", "api")
FACES = ("portal", "admin", "api")
WEB = ("flask", "flask_babel", "flask_limiter", "flask_login", "flask_wtf", "werkzeug")
#: The core's modules that serve requests: the factory and the request glue.
FLASK_IN_CORE = {"tracemark/app.py", "tracemark/web.py"}
#: Imports Flask only inside the functions that serve a request.
FLASK_INSIDE_FUNCTIONS = {"tracemark/i18n.py"}


def _imports(path: Path) -> Iterator[tuple[str, bool]]:
    """Every module ``path`` imports (absolute imports), and whether at module level
    (outside any function; ``if TYPE_CHECKING:`` blocks are not imports at run time)."""
    tree = ast.parse(path.read_text(), str(path))

    def walk(node: ast.AST, top: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                yield from ((alias.name, top) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.module, top
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            else:
                inner = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                yield from walk(child, top and not inner)

    yield from walk(tree, True)


def _sources(package: str) -> list[Path]:
    return sorted(path for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts)


def _root(module: str) -> str:
    return module.split(".")[0]


def test_signing_imports_nothing_of_ours_nor_flask_nor_sqlalchemy():
    for path in _sources("signing"):
        for module, _top in _imports(path):
            assert _root(module) not in {*OURS, *WEB, "sqlalchemy"} - {"signing"}, (path, module)


def test_only_the_app_factory_and_the_request_glue_import_flask_in_the_core():
    for path in _sources("tracemark"):
        name = path.relative_to(ROOT).as_posix()
        for module, top in _imports(path):
            if _root(module) not in WEB or name in FLASK_IN_CORE:
                continue
            assert name in FLASK_INSIDE_FUNCTIONS and not top, (name, module)


def test_only_the_app_factory_imports_the_web_faces_and_inside_the_factory():
    for path in _sources("tracemark"):
        name = path.relative_to(ROOT).as_posix()
        faces = [(module, top) for module, top in _imports(path) if _root(module) in FACES]
        if name == "tracemark/app.py":
            assert faces and not any(top for _module, top in faces), faces
        else:
            assert faces == [], name


@pytest.mark.parametrize("face", FACES)
def test_a_web_face_never_imports_another(face):
    others = set(FACES) - {face}
    for path in _sources(face):
        for module, _top in _imports(path):
            assert _root(module) not in others, (path.relative_to(ROOT), module)


def test_the_check_sees_what_it_checks():
    """The walker finds module-level, function-level and type-only imports as it should."""
    sample = ROOT / "tracemark" / "i18n.py"
    found = set(_imports(sample))
    assert ("flask", False) in found and ("flask", True) not in found
    assert ("babel.support", True) in found
