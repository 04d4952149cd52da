"""What someone was doing when their session ran out: the form they sent, and where.

When a form is posted after the session ended (maximum age, signed out elsewhere) or
after its CSRF token expired, its fields are kept in the signed session cookie with the
page's path and the user's id — never fields whose name holds ``password`` or
``csrf_token``, nor one-time ``code`` fields, and nothing past :data:`MAX_BYTES`. After
signing in again as the same user (``admin.auth`` carries it across the fresh session),
the next GET of that path fills the page's :class:`RestorableForm` forms from it, once,
and says so. Nothing is submitted on the user's behalf: they check and send again.
"""

from __future__ import annotations

import json
import re
import time

from flask import current_app, g, request, session
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from wtforms import FormField

KEY = "tm_intent"
#: Larger forms are not kept (session cookies must stay under 4 KB).
MAX_BYTES = 2048
#: Seconds a kept form waits for its user to sign in again.
TTL = 3600
_SECRET_FIELD = re.compile(r"password|csrf_token|(^|-)code$")
_USER_ID = re.compile(r"([0-9]{1,18}):[0-9]{1,18}")


class RestorableForm(FlaskForm):
    """A form that, on the page a sign-in came back to, shows what was kept for it.

    Being every admin form's base, it also refuses NUL characters in any text field:
    nobody types one, and PostgreSQL would refuse it as a database error deep in a view.
    """

    class Meta:
        def wrap_formdata(self, form, formdata):
            if formdata is _Auto and request.method == "GET":
                restored = g.get(KEY)
                if restored is not None:
                    return restored
            return super().wrap_formdata(form, formdata)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in _fields_with_nul(self):
            field.errors = [*field.errors, _nul_message()]
            valid = False
        return valid


def _nul_message() -> str:
    return gettext("This field contains a character that is not allowed.")


def _fields_with_nul(form):
    """The fields of ``form`` whose data holds a NUL: sub-forms are searched field by
    field, a list is one field (its errors are its own list)."""
    for field in form:
        if isinstance(field, FormField):
            yield from _fields_with_nul(field.form)
        elif _holds_nul(field.data):
            yield field


def _holds_nul(data) -> bool:
    if isinstance(data, str):
        return "\x00" in data
    if isinstance(data, dict):
        return any(_holds_nul(value) for value in data.values())
    if isinstance(data, list | tuple):
        return any(_holds_nul(value) for value in data)
    return False


def stale_user_id() -> int | None:
    """The user of the session's ended sign-in, if it had one."""
    match = _USER_ID.fullmatch(str(session.get("_user_id", "")))
    return int(match.group(1)) if match else None


def keep(user_id: int) -> bool:
    """Keep the posted form for ``user_id`` and this path; False when it cannot be (no page
    to come back to at this address, or too large)."""
    session.pop(KEY, None)
    if request.method != "POST" or not has_page(request.path):
        return False
    fields = [
        [name, value]
        for name, value in request.form.items(multi=True)
        if not _SECRET_FIELD.search(name)
    ]
    kept = {"uid": user_id, "path": request.path, "at": int(time.time()), "form": fields}
    if len(json.dumps(kept, ensure_ascii=False).encode()) > MAX_BYTES:
        return False
    session[KEY] = kept
    return True


def carry(user_id: int) -> dict | None:
    """What was kept for ``user_id`` (to put back into the fresh session after signing in)."""
    kept = session.get(KEY)
    if isinstance(kept, dict) and kept.get("uid") == user_id and _fresh(kept):
        return kept
    return None


def put_back(kept: dict | None) -> None:
    if kept is not None:
        session[KEY] = kept


def waiting() -> bool:
    """Whether a form is kept, waiting for its user to sign in again."""
    kept = session.get(KEY)
    return isinstance(kept, dict) and _fresh(kept)


def restore() -> None:
    """On a GET of the kept form's page by its user, hand the fields to the page's forms
    (see :class:`RestorableForm`) and forget them."""
    kept = session.get(KEY)
    if kept is None or request.method != "GET" or not current_user.is_authenticated:
        return
    if not isinstance(kept, dict) or not _fresh(kept) or kept.get("uid") != current_user.user.id:
        session.pop(KEY, None)
        return
    if kept.get("path") != request.path:
        return
    session.pop(KEY, None)
    g.setdefault(KEY, MultiDict([(str(n), str(v)) for n, v in kept.get("form", [])]))


def restored() -> bool:
    return g.get(KEY) is not None


def _fresh(kept: dict) -> bool:
    at = kept.get("at")
    return isinstance(at, int) and 0 <= time.time() - at <= TTL


def has_page(path: str) -> bool:
    """Whether a GET of ``path`` shows a page (somewhere to come back to)."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except (HTTPException, RequestRedirect):
        return False
    return True
