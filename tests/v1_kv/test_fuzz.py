"""Fuzzing the v1 server: generated requests never cause a 5xx, and junk changes no valid key.

Valid requests PUT, GET and DELETE a few keys (values sent plain, gzip or deflate);
a dict predicts each answer exactly. Junk (see :mod:`tests.fuzz`) is mixed in.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stages.v1_kv.server import STORE, ServerConfig, create_app
from tests.fuzz import Answer, Req, encode, junk_request, oversized, run, run_against

pytestmark = pytest.mark.timeout(300)  # the long profile needs minutes

KEYS = ["k0", "k1", "k2", "é", "a b"]  # no marker character in any of them
LIMIT = 2048


@st.composite
def valid_request(draw: st.DrawFn) -> Req:
    key = draw(st.sampled_from(KEYS))
    path = "/kv/" + quote(key, safe="")
    method = draw(st.sampled_from(["PUT", "GET", "DELETE"]))
    if method != "PUT":
        return Req(method, path, valid=True, label=key)
    value = draw(st.binary(max_size=LIMIT))
    encoding = draw(st.sampled_from(["", "gzip", "deflate"]))
    headers = {"Content-Encoding": encoding} if encoding else {}
    return Req("PUT", path, headers, encode(value, encoding), True, key, value)


requests = st.lists(
    st.one_of(
        valid_request(),
        junk_request(["/kv/", "/kv", "/", "/health", "/kv//"]),
        oversized("/kv/k0", LIMIT),
    ),
    max_size=25,
)


@given(requests)
def test_no_request_breaks_the_server_and_junk_changes_no_valid_key(reqs: list[Req]) -> None:
    model: dict[str, bytes] = {}

    def on_valid(req: Req, answer: Answer) -> None:
        key = req.label
        if req.method == "PUT":
            assert answer.status == (200 if key in model else 201), (req, answer)
            model[key] = req.payload
        elif req.method == "GET":
            assert answer.status == (200 if key in model else 404), (req, answer)
            assert answer.status == 404 or answer.body == model[key]
        else:
            assert answer.status == (204 if model.pop(key, None) is not None else 404)

    app = create_app(ServerConfig(max_value_bytes=LIMIT))
    run(run_against(app, reqs, on_valid))
    assert {k: v for k in KEYS if (v := app[STORE].get(k)) is not None} == model
