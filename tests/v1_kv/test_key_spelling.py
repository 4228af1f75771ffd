"""One key, one spelling: paths that are not valid percent-encoded UTF-8 are refused.

aiohttp leaves an escape it cannot decode as it is, so without this rule
``PUT /kv/%FF`` and ``GET /kv/%25FF`` would reach the same key.
"""

from __future__ import annotations

import sys
import unicodedata

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from stages.v1_kv.server import create_app
from stages.v1_kv.store import InvalidKey, validate_key


@pytest.fixture
async def client(aiohttp_client) -> TestClient:
    return await aiohttp_client(create_app())


def path(raw: str) -> URL:
    return URL(raw, encoded=True)  # sent exactly as written


@pytest.mark.parametrize(
    "raw", ["/kv/%FF", "/kv/a%C3", "/kv/%zz", "/kv/100%", "/kv/a%00b", "/kv/%1B[31m", "/kv/%7F"]
)
async def test_a_key_that_is_not_percent_encoded_text_is_refused(
    client: TestClient, raw: str
) -> None:
    resp = await client.put(path(raw), data=b"x")
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "invalid_key"
    assert (await client.get("/kv")).status == 200
    assert (await (await client.get("/kv")).json())["keys"] == []


async def test_percent_ff_and_percent_25ff_are_no_longer_the_same_key(client: TestClient) -> None:
    assert (await client.put(path("/kv/%25FF"), data=b"x")).status == 201
    assert (await client.get(path("/kv/%FF"))).status == 400
    assert await (await client.get(path("/kv/%25FF"))).read() == b"x"
    assert (await (await client.get("/kv")).json())["keys"] == ["%FF"]


async def test_every_valid_spelling_of_a_key_reaches_it(client: TestClient) -> None:
    assert (await client.put(path("/kv/%C3%A9t%C3%A9"), data=b"summer")).status == 201
    assert await (await client.get(path("/kv/%c3%a9t%c3%a9"))).read() == b"summer"
    assert await (await client.get("/kv/été")).read() == b"summer"


def test_control_characters_are_not_key_material() -> None:
    for key in ["a\x00b", "line\nbreak", "\x7f", "\x9b"]:
        with pytest.raises(InvalidKey, match="control character"):
            validate_key(key)
    validate_key("tab-free é 雪 🙂 a/b")


def test_the_control_character_rule_is_exactly_unicodes_category_cc() -> None:
    """validate_key's regular expression refuses what unicodedata calls Cc, and nothing else."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue  # lone surrogates: refused earlier, as text that is not valid Unicode
        control = unicodedata.category(char) == "Cc"
        try:
            validate_key("a" + char)
        except InvalidKey as exc:
            assert control, f"U+{code:04X} refused: {exc}"
        else:
            assert not control, f"U+{code:04X} is a control character, and was accepted"
