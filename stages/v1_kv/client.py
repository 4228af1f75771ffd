"""A typed async client for the v1 HTTP API.

:class:`HttpClient` holds what every client in the project shares: one
keep-alive :class:`aiohttp.ClientSession`, a timeout on every call, and the
translation of failures into typed exceptions. :class:`KVClient` adds the
key/value calls. Later stages subclass :class:`HttpClient` for their own APIs.

    async with KVClient("http://127.0.0.1:8080") as kv:
        await kv.put("greeting", b"hello")
        assert await kv.get("greeting") == b"hello"
"""

from __future__ import annotations

import json
import re
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import aiohttp
from yarl import URL

DEFAULT_TIMEOUT = 5.0
MAX_REDIRECTS = 5  # 307/308 hops a client follows (a follower to its leader takes one)
# The token for /kv of a node started with --kv-token (stage v2 on): it reads this variable,
# and so does `ddb kv`, which sends it as `Authorization: Bearer TOKEN`.
KV_TOKEN_VARIABLE = "DDB_KV_TOKEN"
# What a token may be, here and for every token stage v2 adds: it must fit in a header.
MAX_TOKEN_CHARS = 256
TOKEN_PATTERN = re.compile(rf"[!-~]{{1,{MAX_TOKEN_CHARS}}}")  # visible ASCII, no spaces
TOKEN_RULE = f"1 to {MAX_TOKEN_CHARS} visible ASCII characters (no spaces)"


class ClientError(Exception):
    """Base class of every error the project's clients raise."""


class ServerUnavailable(ClientError):
    """The server could not be reached, or did not answer in time."""


class RequestFailed(ClientError):
    """The server answered with an error status and a JSON error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} (HTTP {status}, {code})")
        self.status = status
        self.code = code
        self.message = message


class InvalidReply(ClientError):
    """The server answered, but not with what this client's API promises."""


class KeyNotFound(RequestFailed):
    """No value is stored under the requested key."""


# --8<-- [start:http_client]
class HttpClient:
    """One session, a timeout on every request, errors as exceptions."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """``session``: share a process's one session; it is then the caller's to close."""
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
            self._session = None

    def _url(self, path: str) -> URL:
        # encoded=True: the path is already percent-encoded, and "a/../b" must stay a key,
        # not be folded into "b" as a browser would.
        return URL(self.base_url + path, encoded=True)

    async def _request(self, method: str, path: str, **kwargs: Any) -> tuple[int, bytes, str]:
        """Send one request; return (status, body, content type) or raise.

        A ``307``/``308`` is followed here, not by aiohttp (which drops the token on the
        way to another address): same method, same body, at most :data:`MAX_REDIRECTS`
        hops, and an address seen twice is a loop.
        """
        if self._session is None:  # created lazily, inside the running event loop
            self._session = aiohttp.ClientSession()
        url = self._url(path)
        seen = [url]
        try:
            while True:
                async with self._session.request(
                    method, url, timeout=self._timeout, allow_redirects=False, **kwargs
                ) as resp:
                    body = await resp.read()
                    location = resp.headers.get("Location")
                    if resp.status in (307, 308) and location is not None:
                        url = self._redirected(seen, url.join(URL(location, encoded=True)))
                        continue
                    if resp.status >= 400:
                        raise self._error(resp.status, body)
                    return resp.status, body, resp.content_type
        except aiohttp.InvalidURL as exc:
            raise ClientError(f"{self.base_url} is not a usable address: {exc}") from None
        except (TimeoutError, aiohttp.ClientConnectionError) as exc:
            reason = str(exc) or type(exc).__name__
            raise ServerUnavailable(f"cannot reach {self.base_url}: {reason}") from exc

    def _redirected(self, seen: list[URL], url: URL) -> URL:
        """The next address of a redirect, or a :class:`ClientError` for a loop or too many."""
        hops = " -> ".join(str(each) for each in [*seen, url])
        if url in seen:
            raise ClientError(f"the servers redirect in a loop: {hops}")
        if len(seen) > MAX_REDIRECTS:
            raise ClientError(f"more than {MAX_REDIRECTS} redirects: {hops}")
        if url.scheme not in ("http", "https"):
            raise ClientError(f"a redirect to {url}, which is not an http:// address")
        seen.append(url)
        return url

    def _error(self, status: int, body: bytes) -> RequestFailed:
        """Decode the JSON error body that every server in the project sends."""
        try:
            error = json.loads(body)["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            code, message = "http_error", body.decode("utf-8", "replace")[:200] or "no details"
        return RequestFailed(status, code, message)

    async def _json(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, body, _ = await self._request(method, path, **kwargs)
        try:
            return status, (json.loads(body) if body else None)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deeply
            raise self._invalid(f"{method} {path} did not answer with JSON") from None

    def _invalid(self, what: str) -> InvalidReply:
        return InvalidReply(f"{self.base_url} is not the server expected here: {what}")


# --8<-- [end:http_client]


def key_path(key: str) -> str:
    """``/kv/<key>`` with the key percent-encoded; slashes stay readable."""
    return "/kv/" + quote(key, safe="/")


# --8<-- [start:kv_client]
class KVClient(HttpClient):
    """The v1 key/value API as Python methods."""

    async def put(self, key: str, value: bytes) -> bool:
        """Store ``value``; return True if the key was new."""
        status, _ = await self._json("PUT", key_path(key), data=value)
        return status == 201

    async def get(self, key: str) -> bytes:
        """The stored bytes; raises :class:`KeyNotFound` if there are none."""
        try:
            _, body, _ = await self._request("GET", key_path(key))
        except RequestFailed as exc:
            raise _as_not_found(exc) from None
        return body

    async def delete(self, key: str) -> None:
        """Remove ``key``; raises :class:`KeyNotFound` if it was not there."""
        try:
            await self._request("DELETE", key_path(key))
        except RequestFailed as exc:
            raise _as_not_found(exc) from None

    async def keys(self, prefix: str = "") -> list[str]:
        """Every key starting with ``prefix``, sorted."""
        _, body = await self._json("GET", "/kv", params={"prefix": prefix})
        return list(body["keys"])

    async def health(self) -> dict[str, Any]:
        _, body = await self._json("GET", "/health")
        return dict(body)


def _as_not_found(exc: RequestFailed) -> RequestFailed:
    if exc.code == "key_not_found":
        return KeyNotFound(exc.status, exc.code, exc.message)
    return exc


# --8<-- [end:kv_client]
