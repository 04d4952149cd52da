"""The test run's shared URL builders (tests/helpers/routing.py) build, for every rule
of the app, exactly what the rule's own freshly compiled builder builds."""

from werkzeug.routing import Rule, ValidationError

from tests.helpers import routing


def _outcome(build, rule: Rule, values: dict):
    try:
        return build(rule, **values)
    except (ValidationError, ValueError, TypeError) as exc:
        return type(exc)


def test_shared_builders_build_what_each_rule_compiled_alone_builds(app):
    assert Rule._compile_builder is routing._builder
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 100
    for rule in rules:
        arguments = {name: "7" for name in rule.arguments}
        for append_unknown, values in ((False, arguments), (True, arguments | {"q": "a b"})):
            own = routing._compile(rule, append_unknown)
            shared = routing._builder(rule, append_unknown)
            assert _outcome(shared, rule, values) == _outcome(own, rule, values), rule.rule
