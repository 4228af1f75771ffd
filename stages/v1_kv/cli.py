"""Command line for stage v1: ``ddb v1 server`` and ``ddb kv put|get|delete|list``."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from pathlib import Path

import aiohttp

from stages.v1_kv.client import (
    KV_TOKEN_VARIABLE,
    TOKEN_PATTERN,
    TOKEN_RULE,
    ClientError,
    KeyNotFound,
    KVClient,
    RequestFailed,
)
from stages.v1_kv.runner import (
    add_server_arguments,
    configure_logging,
    http_url,
    listen,
    positive_float,
    positive_int,
    serve,
)
from stages.v1_kv.server import DEFAULT_MAX_VALUE_BYTES, ServerConfig, create_app

DEFAULT_URL = "http://127.0.0.1:8080"
URL_VARIABLE = "DDB_URL"  # the default --url of `ddb kv`, when set


def fail(message: str, prog: str = "ddb") -> int:
    """Print a one-line error for a person and return the exit status 1."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 1


def program(args: argparse.Namespace) -> str:
    """The name to put before an error: ``ddb``, or ``python -m ...`` when run that way."""
    return str(vars(args).get("prog", "ddb"))


# -- ddb v1 server ----------------------------------------------------------------------


def add_server_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    add_server_arguments(parser, default_port=8080)
    parser.add_argument(
        "--max-value-bytes",
        type=positive_int,
        default=DEFAULT_MAX_VALUE_BYTES,
        help="largest value a PUT may store, in bytes (default: %(default)s)",
    )
    parser.set_defaults(func=run_server)
    return parser


def start_server(args: argparse.Namespace, who: str) -> socket.socket | None:
    """Log as ``who`` and bind ``--host``/``--port``; None if that failed (and was reported)."""
    configure_logging(args.log_level, who)
    try:
        return listen(args.host, args.port)
    except OSError as exc:
        fail(str(exc), program(args))
        return None


def run_server(args: argparse.Namespace) -> int:
    sock = start_server(args, "kv")
    if sock is None:
        return 1
    serve(create_app(ServerConfig(max_value_bytes=args.max_value_bytes)), sock, args.host)
    return 0


# -- ddb kv ... -------------------------------------------------------------------------


def _read_value(args: argparse.Namespace) -> bytes:
    if args.file is not None:
        return Path(args.file).read_bytes()
    if args.value == "-":
        return sys.stdin.buffer.read()
    return str(args.value).encode("utf-8")


async def _kv_command(args: argparse.Namespace, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with aiohttp.ClientSession(headers=headers) as session:
        kv = KVClient(args.url, timeout=args.timeout, session=session)
        if args.kv_command == "put":
            created = await kv.put(args.key, _read_value(args))
            print(f"{'created' if created else 'replaced'} {args.key}")
        elif args.kv_command == "get":
            value = await kv.get(args.key)
            sys.stdout.buffer.write(value)
            if sys.stdout.isatty() and not value.endswith(b"\n"):
                sys.stdout.buffer.write(b"\n")  # keep the prompt on its own line
            sys.stdout.flush()
        elif args.kv_command == "delete":
            await kv.delete(args.key)
            print(f"deleted {args.key}")
        else:
            for key in await kv.keys(args.prefix):
                print(key)
    return 0


async def _not_a_kv_server(url: str, timeout: float) -> str | None:
    """What ``url`` is instead, if its ``/health`` says it is not a key/value server."""
    try:
        async with KVClient(url, timeout=timeout) as server:
            service = (await server.health()).get("service")
    except (ClientError, ValueError, TypeError):
        return None
    return str(service) if service not in (None, "kv") else None


def _kv_token(args: argparse.Namespace) -> str | None:
    """``--kv-token``, else ``$DDB_KV_TOKEN``; ValueError (that does not repeat it) if it
    could not go in a header."""
    token = args.kv_token if args.kv_token is not None else os.environ.get(KV_TOKEN_VARIABLE)
    if token and not TOKEN_PATTERN.fullmatch(token):
        source = "--kv-token" if args.kv_token is not None else KV_TOKEN_VARIABLE
        raise ValueError(f"the token given by {source} is not {TOKEN_RULE}")
    return token or None


def run_kv(args: argparse.Namespace) -> int:
    if args.kv_command == "put" and (args.value is None) == (args.file is None):
        return fail("put needs exactly one of VALUE, '-' (read standard input) or --file PATH")
    try:
        token = _kv_token(args)
    except ValueError as exc:
        return fail(str(exc))
    try:
        return asyncio.run(_kv_command(args, token))
    except KeyNotFound as exc:
        return fail(f"not found: {exc.message}")
    except RequestFailed as exc:
        no_route = exc.code == "not_found"  # this server has no /kv routes: what is it?
        service = asyncio.run(_not_a_kv_server(args.url, args.timeout)) if no_route else None
        if service is not None:  # e.g. the registry of `make run`, on the default address
            return fail(
                f"{args.url} is a {service}, not a key/value server; give a node's address "
                f"with --url or {URL_VARIABLE} (`ddb nodes` lists them)"
            )
        if exc.status == 401 and token:  # a node started with --kv-token (stage v2 on)
            return fail(f"{args.url} refused the token (HTTP 401): it is not the node's --kv-token")
        if exc.status == 401:
            return fail(
                f"{args.url} wants a token for /kv (HTTP 401: it was started with --kv-token); "
                f"give it with --kv-token or {KV_TOKEN_VARIABLE}"
            )
        return fail(str(exc))
    except ClientError as exc:
        return fail(str(exc))
    except OSError as exc:  # --file that cannot be read
        return fail(f"cannot read {exc.filename}: {exc.strerror}")


def add_kv_parser(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        type=http_url,
        default=os.environ.get(URL_VARIABLE) or DEFAULT_URL,
        help=f"the server's address (default: ${URL_VARIABLE} if set, else {DEFAULT_URL})",
    )
    common.add_argument(
        "--timeout",
        type=positive_float,
        default=5.0,
        help="seconds to wait for the server (default: %(default)s)",
    )
    common.add_argument(
        "--kv-token",
        metavar="TOKEN",
        help="the token of a node started with --kv-token (stage v2 on); prefer the "
        f"environment variable {KV_TOKEN_VARIABLE}, which `ps` does not show (default: that "
        "variable, else none)",
    )
    sub = parser.add_subparsers(dest="kv_command", required=True, metavar="ACTION")
    put = sub.add_parser(
        "put",
        parents=[common],
        help="store a value",
        description="Store VALUE under KEY. Use '-' as VALUE to read standard input.",
    )
    put.add_argument("key", metavar="KEY")
    put.add_argument("value", metavar="VALUE", nargs="?", help="the value, or '-' for stdin")
    put.add_argument("--file", metavar="PATH", help="read the value from this file")
    get = sub.add_parser("get", parents=[common], help="print the value stored under KEY")
    get.add_argument("key", metavar="KEY")
    delete = sub.add_parser("delete", parents=[common], help="remove KEY")
    delete.add_argument("key", metavar="KEY")
    keys = sub.add_parser("list", parents=[common], help="list keys, sorted")
    keys.add_argument("--prefix", default="", help="only keys starting with this")
    parser.set_defaults(func=run_kv)


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``v1`` and ``kv`` to the ``ddb`` command."""
    v1 = commands.add_parser("v1", help="stage v1: the in-memory key/value server")
    v1_sub = v1.add_subparsers(dest="v1_command", required=True, metavar="COMMAND")
    add_server_parser(
        v1_sub.add_parser(
            "server",
            help="run the key/value server",
            description="Run the v1 in-memory key/value server over HTTP.",
        )
    )
    add_kv_parser(
        commands.add_parser(
            "kv",
            help="read and write keys on a running server",
            description="Read and write keys on a running server (any stage).",
        )
    )


def server_main(argv: list[str] | None = None) -> int:
    """``python -m stages.v1_kv``: the same as ``ddb v1 server``."""
    parser = argparse.ArgumentParser(
        prog="python -m stages.v1_kv", description="Run the v1 key/value server."
    )
    parser.set_defaults(prog=parser.prog)  # errors say "python -m stages.v1_kv: error: ..."
    args = add_server_parser(parser).parse_args(argv)
    return int(args.func(args))
