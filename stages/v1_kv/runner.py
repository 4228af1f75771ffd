"""Running a server as a process: logging, a listening socket, and serving an app.

Every server in the project (the v1 server, the registry, the nodes) starts the
same way, so the steps live here once:

1. :func:`configure_logging` so every line says when, who and what;
2. :func:`listen` binds the socket *before* the app is built, so a server asked
   for ``--port 0`` knows its real port (a node needs it to register itself);
3. :func:`serve` runs the app, logs ``Listening on http://HOST:PORT`` once it has
   started (from then on SIGINT and SIGTERM shut it down cleanly), and on either
   runs the app's cleanup (deregistering, for a node), in bounded time.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import threading

from aiohttp import web
from yarl import URL

from stages.v1_kv.errors import OneLineParseErrors

log = logging.getLogger(__name__)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def configure_logging(level: str = "INFO", who: str = "") -> None:
    """Log to stderr as ``time level [who] logger: message``."""
    tag = f"[{who}] " if who else ""
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s %(levelname)-5s {tag}%(name)s: %(message)s",
        force=True,
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # no line per request
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, OneLineParseErrors) for f in server_log.filters):
        server_log.addFilter(OneLineParseErrors())  # malformed requests: one line each


def format_url(host: str, port: int) -> str:
    """``http://host:port``, with brackets around an IPv6 address."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0 picks a free one).

    Raises :class:`OSError` with a message a person can act on.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)  # without Python's addenda
        raise OSError(f"cannot listen on {host}:{port}: {reason}") from None


def bound_port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


# --8<-- [start:serve]
SHUTDOWN_TIMEOUT = 3.0  # seconds that requests in progress get to finish after SIGTERM
SHUTDOWN_LIMIT = SHUTDOWN_TIMEOUT + 1.0  # after this, the process exits whatever is pending


def serve(app: web.Application, sock: socket.socket, host: str) -> None:
    """Serve ``app`` on ``sock`` until SIGINT/SIGTERM, then shut down cleanly.

    Shutting down always ends: the requests in progress get ``SHUTDOWN_TIMEOUT``
    seconds, the app's cleanup (deregistering, for a node) has bounded timeouts of
    its own, and a watchdog ends the process at ``SHUTDOWN_LIMIT`` if anything
    still hangs, saying so in the log.
    """
    url = format_url(host, bound_port(sock))

    async def listening(app: web.Application) -> None:  # after start-up: signals are handled
        log.info("Listening on %s", url)

    app.on_startup.insert(0, listening)  # first: the story starts with the address
    app.on_shutdown.append(_arm_watchdog)
    web.run_app(app, sock=sock, print=None, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    log.info("Stopped")


async def _arm_watchdog(app: web.Application) -> None:
    def give_up() -> None:
        log.error("Shutdown took longer than %.1fs; exiting without finishing it", SHUTDOWN_LIMIT)
        logging.shutdown()
        os._exit(1)

    watchdog = threading.Timer(SHUTDOWN_LIMIT - 0.1, give_up)  # the signal was a moment ago
    watchdog.daemon = True  # it never keeps a process alive that finished in time
    watchdog.start()


# --8<-- [end:serve]


# -- argparse helpers shared by every command line in the project ---------------------


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 to 65535 (0 means "any free port")."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not between 0 and 65535")
    return port


def http_url(text: str) -> str:
    """An argparse type: an ``http://host:port`` address, without a trailing slash."""
    try:
        url = URL(text)
    except ValueError:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an http:// address like http://127.0.0.1:8080"
        )
    return str(url).rstrip("/")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be greater than 0")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a number greater than 0")
    return value


def add_server_arguments(parser: argparse.ArgumentParser, *, default_port: int) -> None:
    """--host, --port and --log-level, the same for every server."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=default_port,
        help="TCP port to listen on; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=LOG_LEVELS,
        help="INFO tells the story, DEBUG adds the chatter (default: %(default)s)",
    )
