"""JSON error responses, shared by every server in the project.

Every error a client can receive has the same shape::

    {"error": {"code": "invalid_key", "message": "the key is empty; ..."}}

``code`` is stable and meant for programs; ``message`` is meant for people and
says what to do about it. Handlers raise :class:`ApiError`; the
:func:`json_errors` middleware turns it, and aiohttp's own 404/405/413, into
that shape, so no request can ever produce an HTML page or a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Codes for aiohttp's own HTTP errors (unknown route, wrong method, body too large, ...).
_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


class ApiError(Exception):
    """An error to report to the client as a JSON body with this status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def json_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """The one place an error body is built."""
    body = {"error": {"code": code, "message": message}}
    return web.json_response(body, status=status, headers=headers)


def _describe(request: web.Request, exc: web.HTTPException) -> str:
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return f"{request.method} is not allowed on {request.path}; allowed: {allowed}"
    if exc.status == 404:
        return f"there is no route for {request.method} {request.path}"
    return exc.text or exc.reason


# --8<-- [start:middleware]
@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every failure with a JSON error body instead of text or a traceback."""
    try:
        return await handler(request)
    except ApiError as exc:
        return json_error(exc.status, exc.code, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and friends are not errors
            raise
        code = _CODES.get(exc.status, "http_error")
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return json_error(exc.status, code, _describe(request, exc), headers)
    except Exception:
        log.exception("Unhandled error while serving %s %s", request.method, request.path)
        return json_error(500, "internal_error", "the server hit a bug; the log has the details")


# --8<-- [end:middleware]
