#!/usr/bin/env bash
# Refresh the portal's translations in one step: extract -> update -> compile.
#
#   scripts/i18n.sh                    extract translations/messages.pot from the sources, merge
#                                      it into every translations/<locale>/LC_MESSAGES/messages.po,
#                                      compile the .mo files (commit all three kinds of file)
#   scripts/i18n.sh --extract-to FILE  only extract the template into FILE (the tests use this to
#                                      check that the committed messages.pot is up to date)
#
# Babel is run as "$PYTHON -m babel.messages.frontend" (the same as pybabel); PYTHON defaults to
# python3, so run it with the project's virtualenv active or set PYTHON=/path/to/venv/bin/python.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"

pybabel() {
    "$PYTHON" -m babel.messages.frontend "$@"
}

extract() {
    pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _plural:1,2 -o "$1" --no-location --sort-output \
        --project Tracemark --copyright-holder Tracemark .
}

case "${1:-}" in
    --extract-to)
        [[ $# -eq 2 ]] || { echo "usage: $0 [--extract-to FILE]" >&2; exit 2; }
        extract "$2"
        ;;
    "")
        extract translations/messages.pot
        pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
        pybabel compile -d translations --statistics
        ;;
    *)
        echo "usage: $0 [--extract-to FILE]" >&2
        exit 2
        ;;
esac
