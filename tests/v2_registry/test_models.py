"""Wire messages validate what they are given."""

import pytest

from stages.v2_registry.models import InvalidMessage, NodeInfo, Registration


def test_registration_round_trips() -> None:
    reg = Registration("n1", 8050, "10.0.0.5")
    assert Registration.from_json(reg.to_json()) == reg
    assert Registration.from_json({"name": "n-1.a_b", "port": 1}).host is None


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ([], "JSON object"),
        ({"port": 8050}, '"name" and "port"'),
        ({"name": "", "port": 8050}, "'name' must be 1 to 64"),
        ({"name": "a" * 65, "port": 8050}, "'name' must be"),
        ({"name": "a b", "port": 8050}, "'name' must be"),
        ({"name": "n/1", "port": 8050}, "'name' must be"),
        ({"name": 7, "port": 8050}, "'name' must be"),
        ({"name": "n1", "port": 0}, "'port' must be"),
        ({"name": "n1", "port": 65536}, "'port' must be"),
        ({"name": "n1", "port": "8050"}, "'port' must be"),
        ({"name": "n1", "port": True}, "'port' must be"),
        ({"name": "n1", "port": 8050.0}, "'port' must be"),
        ({"name": "n1", "port": 8050, "host": ""}, "'host' must be"),
        ({"name": "n1", "port": 8050, "host": 5}, "'host' must be"),
        ({"name": "n1", "port": 8050, "host": "1.2.3.4:5/x"}, "'host' must be"),
        ({"name": "n1", "port": 8050, "host": "a\x00b"}, "'host' must be"),
        ({"name": "n1", "port": 8050, "host": "user@host"}, "'host' must be"),
        ({"name": "n1", "port": 8050, "host": "[::1]"}, "IPv6 without brackets"),
        ({"name": "n1", "port": 8050, "host": "fe80::1%eth0"}, "'host' must be"),
        ({"name": "n1", "port": 8050, "host": "-node"}, "'host' must be"),
        ({"name": "n1", "port": 8050, "host": "a..b"}, "'host' must be"),
        ({"name": "n1", "port": 8050, "host": "a" * 254}, "'host' must be"),
        ({"name": "n1", "port": 8050, "colour": "red"}, "unknown field"),
    ],
)
def test_bad_registrations_are_refused_with_a_reason(body: object, complaint: str) -> None:
    with pytest.raises(InvalidMessage, match=complaint):
        Registration.from_json(body)


def test_node_info_has_a_url_and_round_trips() -> None:
    info = NodeInfo("n1", "127.0.0.1", 8050, 0.25)
    assert info.url == "http://127.0.0.1:8050"
    assert NodeInfo.from_json(info.to_json()) == info
    assert NodeInfo("n1", "::1", 8050, 0).url == "http://[::1]:8050"
    with pytest.raises(InvalidMessage):
        NodeInfo.from_json({"name": "n1"})


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "10.77.0.5", "::1", "2001:db8::7", "node1", "registry_1", "db.example.org"],
)
def test_host_names_and_ip_literals_are_accepted(host: str) -> None:
    reg = Registration.from_json({"name": "n1", "port": 8050, "host": host})
    assert reg.host == host
