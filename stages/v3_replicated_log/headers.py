"""What a v3.0 ``/kv`` request says beyond v1's API, and what its answer adds: HTTP headers.

v1's handlers read a key and a body and call the backend; they know nothing of versions
or clients. The middleware :func:`raft_headers` reads the rest from each ``/kv/KEY``
request into a :class:`KVRequest` that the backend finds with :func:`current` (a context
variable: each request runs in its own asyncio task, with its own value), and turns what
the backend raises into an answer that says what happened.

Request::

    If-Match: "7"              PUT only: compare-and-set, if the key's version is still 7
                               ("0": if the key is absent)
    X-Client-Id: C             a client's name (1-64 letters, digits, ".", "_", "-", ":")
    X-Client-Seq: N            and its request's number (1 up): a retry with the same
                               pair is applied once, and gets the first answer again
    ?consistency=stale         GET: this node's applied state, without asking the leader

Answer::

    X-Raft-Index: I            the write's log index; a linearizable read's read index
    X-Raft-Applied: A          a read: the last index this node had applied
    ETag: "V"                  the key's version (the log index of its last write)
    412  {"error": ..., "version": V}         If-Match did not match; the current version
    503  {"error": ..., "outcome": "unknown"} the write may or may not have been committed
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from stages.v1_kv.errors import ApiError, Handler, json_error
from stages.v2_1_election.messages import MAX_TERM
from stages.v3_replicated_log.driver import DiskFailed, LeadershipLost, OutcomeUnknown

CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
NUMBER = re.compile(r"[0-9]{1,19}")  # and at most MAX_TERM (2**63 - 1)


class PreconditionFailed(Exception):
    """A compare-and-set that found another version (``412``)."""

    def __init__(self, version: int) -> None:
        super().__init__(f"the key's version is {version}")
        self.version = version


@dataclass
class KVRequest:
    """One ``/kv/KEY`` request's extra headers, and the headers of its answer."""

    path_qs: str  # the path and query as sent: a redirect keeps them
    if_match: int | None = None
    client: tuple[str, int] | None = None
    stale: bool = False
    answer: dict[str, str] = field(default_factory=dict)


REQUEST: ContextVar[KVRequest] = ContextVar("kv_request")


def current() -> KVRequest:
    """The request the backend serves now (the middleware set it)."""
    return REQUEST.get()


# --8<-- [start:parse]
def parse(request: web.Request) -> KVRequest:
    """Read and bound the headers; a bad one is a ``400`` that says what is wrong."""
    headers, kv = request.headers, KVRequest(request.path_qs)
    if "If-Match" in headers:
        if request.method != "PUT":
            raise ApiError(400, "invalid_header", "If-Match is for PUT only (compare-and-set)")
        kv.if_match = number(headers["If-Match"].strip().strip('"'), "If-Match", 0)
    client, seq = headers.get("X-Client-Id"), headers.get("X-Client-Seq")
    if (client is None) != (seq is None):
        raise ApiError(400, "invalid_header", "X-Client-Id and X-Client-Seq go together")
    if client is not None and seq is not None:
        if not CLIENT_ID.fullmatch(client):
            raise ApiError(
                400, "invalid_header", "X-Client-Id is 1 to 64 letters, digits, '.', '_', '-', ':'"
            )
        kv.client = (client, number(seq, "X-Client-Seq", 1))
    consistency = request.query.get("consistency", "linearizable")
    if consistency not in ("linearizable", "stale"):
        raise ApiError(400, "invalid_query", "consistency is linearizable (the default) or stale")
    kv.stale = consistency == "stale"
    return kv


def number(text: str, name: str, least: int) -> int:
    if not NUMBER.fullmatch(text) or not least <= int(text) <= MAX_TERM:
        raise ApiError(
            400, "invalid_header", f'{name} is a whole number from {least} to 2**63 - 1, as "7"'
        )
    return int(text)


# --8<-- [end:parse]


# --8<-- [start:middleware]
@web.middleware
async def raft_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Around v1's ``/kv/KEY`` handlers: the request's headers in, the answer's out."""
    if not request.path.startswith("/kv/"):
        return await handler(request)
    kv = parse(request)
    token = REQUEST.set(kv)
    try:
        response = await handler(request)
    except ApiError as exc:  # answered here, so that a 404 carries X-Raft-Applied too
        response = json_error(exc.status, exc.code, exc.message)
    except PreconditionFailed as exc:
        response = error(412, "version_mismatch", str(exc), version=exc.version)
    except OutcomeUnknown as exc:
        response = error(503, "outcome_unknown", f"{exc}: read the key to find out", **UNKNOWN)
    except DiskFailed as exc:
        response = error(503, "disk_failed", str(exc), **(UNKNOWN if exc.pending else {}))
    except LeadershipLost as exc:
        response = error(503, "leadership_lost", f"{exc}; try again")
    finally:
        REQUEST.reset(token)
    response.headers.update(kv.answer)
    return response


UNKNOWN = {"outcome": "unknown"}


def error(status: int, code: str, message: str, **more: Any) -> web.Response:
    """v1's JSON error, with more fields beside it (the version, the outcome)."""
    body = {"error": {"code": code, "message": message}, **more}
    return web.json_response(body, status=status)


# --8<-- [end:middleware]
