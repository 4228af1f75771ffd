"""JSON error responses, shared by every server in the project.

Every error a client can receive has the same shape::

    {"error": {"code": "invalid_key", "message": "the key is empty; ..."}}

``code`` is stable and meant for programs; ``message`` is meant for people and
says what to do about it. Handlers raise :class:`ApiError`; the
:func:`json_errors` middleware turns it, and aiohttp's own 404/405/413, into
that shape, so no request can ever produce an HTML page or a stack trace.

What stays outside our reach: a request that aiohttp's own HTTP parser refuses
before any handler runs (a request line or header over 8,190 bytes, too many
headers, both Content-Length and Transfer-Encoding, a bad ``Expect``). aiohttp
answers those itself, as text/plain, and offers no supported hook to change the
body. :class:`OneLineParseErrors` at least makes each one a single log line
instead of a traceback, so a flood of them cannot bury the log.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http import HttpProcessingError

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
    except web.RequestPayloadError as exc:  # a body that cannot be decoded (bad gzip, chunks)
        reason = parse_error_reason(exc)
        response = json_error(400, "invalid_body", f"the request body cannot be read: {reason}")
        response.force_close()  # the rest of that body is unreadable: end the connection
        return response
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


def parse_error_reason(exc: BaseException) -> str:
    """aiohttp's own words for a parse error, on one line ("Can not decode ...")."""
    cause = exc.__cause__ if isinstance(exc.__cause__, HttpProcessingError) else exc
    return " ".join(str(getattr(cause, "message", None) or cause).split())


# --8<-- [start:one_line_parse_errors]
class OneLineParseErrors(logging.Filter):
    """Log a request that aiohttp's parser refused as one line, not a traceback.

    Install it on the ``aiohttp.server`` logger (``configure_logging`` does). The
    client has its 400 already; the log only needs to say who sent what.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError | web.RequestPayloadError):
            record.msg, record.args = "Refused a malformed request: %s", (parse_error_reason(exc),)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


# --8<-- [end:one_line_parse_errors]
