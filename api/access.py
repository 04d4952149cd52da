"""Who may call: the bearer token, its brand, its scopes, its rate budget; and how
requests are read (body size, JSON, characters PostgreSQL cannot store).

Error messages are English, as in the public verification API: clients act on the stable
``error`` code, and the people reading messages are the integrators.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from flask import Blueprint, g, jsonify, request, send_from_directory
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from tracemark.accounts import tokens as api_tokens
from tracemark.models import ApiToken
from tracemark.web import count_failure, db_session, error_response, failures_exhausted

bp = Blueprint("integration", __name__, url_prefix="/api/v1")
HERE = Path(__file__).resolve().parent
#: The largest request body (an EPCIS document of 10,000 events fits).
MAX_BODY = 8 * 1024 * 1024
JSON_TYPES = ("application/json", "application/ld+json")
_PUBLIC = {"integration.openapi"}


class ApiError(Exception):
    """An answer other than success: status, stable code, message and JSON details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        challenge: str | None = None,
        retry_after: int | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        #: The RFC 6750 error of a 401's ``WWW-Authenticate`` challenge.
        self.challenge = challenge
        #: Seconds a refused client should wait (a 429's ``Retry-After``).
        self.retry_after = retry_after


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    details = error.details
    problem = str(details.get("type", "")).startswith("epcisException:")
    if problem:
        details = details | {"status": error.status}
    response, status = error_response(error.status, error.code, error.message, **details)
    if error.challenge is not None:
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="tracemark", error="{error.challenge}"'
        )
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    if problem:
        response.mimetype = PROBLEM_JSON  # an EPCIS exception is an RFC 7807 problem
    return response, status


def budget_key() -> str:
    """Each token has its own rate budget: the key is a digest of what was presented, so
    no one without the token can spend it."""
    header = request.headers.get("Authorization", "")
    return "token:" + hashlib.sha256(header.encode()).hexdigest()[:32]


def token() -> ApiToken:
    return g.api_token


@bp.before_request
def _authenticate():
    request.max_content_length = MAX_BODY
    if request.endpoint in _PUBLIC:
        return None
    wait = failures_exhausted("api_auth")
    if wait is not None:
        raise ApiError(
            429,
            "too_many_failures",
            "Too many requests without a valid API token from this address; try again later.",
            retry_after=wait,
        )
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        count_failure("api_auth")
        raise ApiError(
            401,
            "missing_token",
            "Send an API token as 'Authorization: Bearer <token>'.",
            challenge="invalid_request",
        )
    session = db_session()
    found = api_tokens.authenticate(session, presented.strip())
    if found is None:
        count_failure("api_auth")
        raise ApiError(
            401,
            "invalid_token",
            "This API token is not valid or has been revoked.",
            challenge="invalid_token",
        )
    if session.dirty:
        session.commit()  # when the token was last used
    slug = (request.view_args or {}).get("slug")
    if found.brand.slug != slug:  # another brand's, or none: as if it did not exist
        raise not_found()
    g.api_token = found
    _refuse_bad_characters(request.view_args or {}, "path")
    _refuse_bad_characters(request.args.to_dict(flat=False), "query")
    return None


def requires(scope: str):
    """Admit only tokens holding ``scope`` (403 ``insufficient_scope`` otherwise)."""
    if scope not in api_tokens.SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def decorate(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            if scope not in token().scope_set:
                raise ApiError(
                    403,
                    "insufficient_scope",
                    f"This API token lacks the scope '{scope}'.",
                    scope=scope,
                )
            return view(*args, **kwargs)

        return checked

    return decorate


def made(session: Session, payload: Any, status: int = 201, location: str | None = None):
    """Commit what the request made (its operation audited itself) and answer with it:
    ``payload`` as JSON with ``status`` (201 Created; 202 Accepted for queued work) and,
    when given, the ``Location`` of what was made."""
    session.commit()
    response = jsonify(payload)
    response.status_code = status
    if location is not None:
        response.headers["Location"] = location
    return response


def not_found() -> ApiError:
    return ApiError(404, "not_found", "There is nothing at this address.")


def bad_parameter(name: str, message: str) -> ApiError:
    """400 ``bad_parameter`` naming the query parameter ``name``."""
    return ApiError(400, "bad_parameter", message, parameter=name)


PROBLEM_JSON = "application/problem+json"


def query_parameter_exception(name: str, message: str, code: str = "bad_parameter") -> ApiError:
    """400 as the EPCIS 2.0 REST binding answers a query parameter it cannot take: an
    RFC 7807 problem of type ``epcisException:QueryParameterException``, with this API's
    stable ``error`` code and the ``parameter`` named too."""
    return ApiError(
        400,
        code,
        message,
        parameter=name,
        type="epcisException:QueryParameterException",
        title="Invalid query parameter",
        detail=message,
    )


def json_body() -> Any:
    """The request's JSON body, read whole (at most :data:`MAX_BODY`).

    :raises ApiError: 415 ``unsupported_media_type`` (not JSON), 400 ``malformed_json``,
        422 ``bad_character`` (a NUL or an unpaired surrogate anywhere, with its path).
    :raises RequestEntityTooLarge: a body longer than :data:`MAX_BODY`, declared or not.
    """
    if request.mimetype not in JSON_TYPES:
        raise ApiError(415, "unsupported_media_type", "Send JSON (Content-Type: application/json).")
    raw = _body()
    try:
        text = raw.decode()  # JSON between systems is UTF-8 (RFC 8259)
        body = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed_json", "The request body is not well-formed JSON.") from None
    # a NUL or a lone surrogate can only come from a \u escape (raw control characters
    # are not JSON, and the text decoded as UTF-8): most bodies need no walk at all
    if "\\u" in text:
        _refuse_bad_characters(body, "$")
    return body


def raw_body() -> bytes:
    """The whole body as bytes (at most :data:`MAX_BODY`), for a body that is not JSON."""
    return _body()


def _body() -> bytes:
    """The whole body, at most :data:`MAX_BODY` bytes.

    A declared ``Content-Length`` is checked by Werkzeug. A body without one (chunked) is
    measured here as it is read, from the server's input itself: the request's cached
    stream may have been built under the app-wide limit before this blueprint set its own,
    and a stream cut at the limit would read as a shorter, malformed document.
    """
    if request.content_length is not None:
        return request.get_data(cache=False)
    environ = request.environ
    if "wsgi.input_terminated" not in environ:
        return b""  # the server does not end the stream: nothing is safe to read
    stream, parts, size = environ["wsgi.input"], [], 0
    while size <= MAX_BODY:
        part = stream.read(min(64 * 1024, MAX_BODY + 1 - size))
        if not part:
            return b"".join(parts)
        parts.append(part)
        size += len(part)
    raise RequestEntityTooLarge()


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _refuse_bad_characters(value: Any, path: str) -> None:
    """NUL characters and unpaired surrogates cannot be stored (PostgreSQL, UTF-8):
    refused at the boundary, with where they were."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item or not _encodable(item):
                raise ApiError(
                    422,
                    "bad_character",
                    "Text may not hold NUL characters or unpaired surrogates.",
                    path=where,
                )
        elif isinstance(item, dict):
            for key, child in item.items():
                stack.append((key, where))
                stack.append((child, f"{where}.{key}"))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


@bp.get("/integration/openapi.yaml")
def openapi():
    """The integration API's OpenAPI document (the public verification API keeps
    ``/api/v1/openapi.yaml``)."""
    return send_from_directory(HERE, "openapi.yaml", mimetype="application/yaml")
