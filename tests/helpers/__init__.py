"""Plain helpers shared by test modules: constants, builders and assertions.

Fixtures live in ``conftest.py`` files; what a test calls as a function lives here, so no
test module imports from another one.
"""
