"""Fuzzing the registry: generated requests never cause a 5xx, and junk registers no valid name.

Valid requests register, renew, move (a 409) and deregister three names; a dict of
name to address predicts each answer. The registry's clock stands still, so nothing
expires during a run. Junk (see :mod:`tests.fuzz`) includes registrations with
wrong fields, wrong types, huge and negative ports, NaN, hosts with a path, a NUL
or a user, and names that are not names.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stages.v2_registry.server import REGISTRY, RegistryConfig, create_registry_app
from tests.fuzz import Answer, Req, encode, json_values, junk_request, run, run_against

pytestmark = pytest.mark.timeout(300)  # the long profile needs minutes

NAMES = ["n1", "n2", "n3"]
PORTS = [8001, 8002]
NOW = 1000.0


@st.composite
def valid_request(draw: st.DrawFn) -> Req:
    name = draw(st.sampled_from(NAMES))
    if draw(st.integers(0, 3)) == 0:
        return Req("DELETE", f"/nodes/{name}", valid=True, label=name)
    address = ("127.0.0.1", draw(st.sampled_from(PORTS)))
    body = json.dumps({"name": name, "port": address[1], "host": address[0]}).encode()
    encoding = draw(st.sampled_from(["", "gzip", "deflate"]))
    headers = {"Content-Type": "application/json"}
    if encoding:
        headers["Content-Encoding"] = encoding
    return Req("POST", "/nodes", headers, encode(body, encoding), True, name, address)


junk_fields = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(json_values, st.sampled_from(["", "a b", "x" * 300, "n1\x00", "é"])),
        "port": st.one_of(json_values, st.sampled_from([0, -1, 65536, 2**70, 1.5, "80", True])),
        "host": st.one_of(
            json_values, st.sampled_from(["1.2.3.4:5/x", "a\x00b", "user@host", "", "[::1", "-x"])
        ),
        "extra": json_values,
    },
).filter(lambda body: body.get("name") not in NAMES)


@st.composite
def junk_registration(draw: st.DrawFn) -> Req:
    body = json.dumps(draw(junk_fields)).encode()
    return Req("POST", "/nodes", {"Content-Type": "application/json"}, body)


requests = st.lists(
    st.one_of(
        valid_request(),
        junk_registration(),
        junk_request(["/nodes/", "/nodes", "/", "/health", "/nodes//"]),
    ),
    max_size=25,
)


@given(requests)
def test_no_request_breaks_the_registry_and_junk_registers_no_valid_name(
    reqs: list[Req],
) -> None:
    model: dict[str, tuple[str, int]] = {}

    def on_valid(req: Req, answer: Answer) -> None:
        name = req.label
        if req.method == "DELETE":
            assert answer.status == (204 if model.pop(name, None) else 404), (req, answer)
        elif name not in model:
            assert answer.status == 201, (req, answer)
            model[name] = req.payload
        else:
            assert answer.status == (200 if model[name] == req.payload else 409), (req, answer)

    app = create_registry_app(RegistryConfig(), clock=lambda: NOW)
    run(run_against(app, reqs, on_valid))
    entries = {e.name: e.address for e in app[REGISTRY].entries(NOW) if e.name in NAMES}
    assert entries == model
