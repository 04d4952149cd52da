"""URL builders compiled once per test process instead of once per app.

Werkzeug compiles two Python functions per URL rule when a rule joins an app's map, and
nearly every test builds an app of its own from the same 129 rules: that compilation
was a third of the time of an admin test. A builder's code depends only on the rule's
parsed parts, its defaults and whether unknown arguments are appended; the rule itself
is bound at each call (the function's first argument), so one function serves every
app's copy of the same rule. Rules whose defaults fill one of their own variables are
compiled as usual (their code holds a converted default).
"""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.routing import Rule

_compile = Rule._compile_builder
_builders: dict[tuple, Callable] = {}


def _builder(rule: Rule, append_unknown: bool = True) -> Callable:
    defaults = rule.defaults or {}
    if any(dynamic and part in defaults for dynamic, part in rule._trace):
        return _compile(rule, append_unknown)
    key = (rule.rule, tuple(rule._trace), tuple(sorted(defaults)), append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _compile(rule, append_unknown)
    return builder


def compile_builders_once() -> None:
    Rule._compile_builder = _builder
