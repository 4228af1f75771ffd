"""The lab's plan, without root: names, addresses, and the ``ip`` commands it would run."""

from __future__ import annotations

import pytest

from stages.cli import main
from workbench.lab import netns
from workbench.lab.plan import (
    CLIENT,
    CLIENT_MAC,
    IFNAME_MAX,
    LabError,
    bridge_commands,
    check_partition,
    claim_commands,
    client_commands,
    client_routes,
    heal_commands,
    host,
    host_commands,
    lab_of,
    node_command,
    parse_side,
    partition_commands,
    plan,
    registry_command,
)


def test_each_host_has_its_own_address_namespace_and_link_named_by_the_lab() -> None:
    lab = plan("demo", 5)
    assert [(h.name, h.address, h.namespace) for h in lab.hosts] == [
        ("reg", "10.77.0.2", "ddbl-demo-reg"),
        ("n1", "10.77.0.11", "ddbl-demo-n1"),
        ("n2", "10.77.0.12", "ddbl-demo-n2"),
        ("n3", "10.77.0.13", "ddbl-demo-n3"),
        ("n4", "10.77.0.14", "ddbl-demo-n4"),
        ("n5", "10.77.0.15", "ddbl-demo-n5"),
    ]
    assert (lab.bridge_a, lab.bridge_b) == ("ddbl-demo-a", "ddbl-demo-b")
    assert lab.registry_url == "http://10.77.0.2:8080"
    assert host("demo", "x1").address == "10.77.0.101"


def test_the_longest_names_fit_in_a_link_name() -> None:
    lab = plan("abcdef", 9)
    names = [lab.bridge_a, lab.bridge_b, *(h.veth for h in lab.hosts), host("abcdef", "x9").veth]
    assert max(len(name) for name in names) <= IFNAME_MAX


@pytest.mark.parametrize("bad", ["", "Demo", "toolong", "a-b", "a b"])
def test_a_lab_name_that_would_not_fit_or_could_be_misread_is_refused(bad: str) -> None:
    with pytest.raises(LabError, match="lowercase letters or digits"):
        plan(bad, 3)


@pytest.mark.parametrize("nodes", [0, 10])
def test_a_lab_has_one_to_nine_nodes(nodes: int) -> None:
    with pytest.raises(LabError, match="1 to 9 nodes"):
        plan("demo", nodes)


def test_names_say_which_lab_they_belong_to_and_nothing_else_is_the_labs() -> None:
    assert lab_of("ddbl-demo-n1") == "demo"
    assert lab_of("ddbl-t1a2b3-a") == "t1a2b3"
    assert lab_of("eth0") is None
    assert lab_of("ddb-demo-n1") is None
    assert lab_of("ddbl-demo") is None


def test_no_command_gives_the_root_namespace_an_address_or_anyone_a_default_route() -> None:
    lab = plan("demo", 3)
    commands = [
        *claim_commands(lab, "ddb lab, pid 1"),
        *bridge_commands(lab, "ddb lab, pid 1"),
        *(c for h in lab.hosts for c in host_commands(lab, h)),
    ]
    for command in commands:
        if "addr" in command or "route" in command:
            assert command[1:3] == ["-n", command[2]] and command[2].startswith("ddbl-demo-")
            assert "route" not in command and "default" not in command
    links = {c[3] for c in commands if "addrgenmode" in c}
    assert {lab.bridge_a, lab.bridge_b, *(h.veth for h in lab.hosts)} <= links  # no IPv6 either


def test_the_claim_is_adding_bridge_a_then_naming_its_owner() -> None:
    """Adding bridge a first is the lock (a second run's add fails); nothing else adds it."""
    lab = plan("demo", 3)
    assert claim_commands(lab, "ddb lab, pid 7") == [
        ["ip", "link", "add", "ddbl-demo-a", "type", "bridge"],
        ["ip", "link", "set", "ddbl-demo-a", "alias", "ddb lab, pid 7"],
    ]
    rest = [*bridge_commands(lab, "ddb lab, pid 7"), *host_commands(lab, lab.registry)]
    assert not [c for c in rest if c[:3] == ["ip", "link", "add"] and c[3] == lab.bridge_a]
    assert ["ip", "link", "set", "ddbl-demo-b", "alias", "ddb lab, pid 7"] in rest


def test_a_host_is_a_namespace_with_eth0_on_bridge_a() -> None:
    lab = plan("demo", 1)
    assert host_commands(lab, lab.nodes[0]) == [
        ["ip", "netns", "add", "ddbl-demo-n1"],
        ["ip", "link", "add", "ddbl-demo-n1", "type", "veth", "peer", "name", "eth0", "netns",
         "ddbl-demo-n1"],
        ["ip", "link", "set", "ddbl-demo-n1", "addrgenmode", "none"],
        ["ip", "link", "set", "ddbl-demo-n1", "master", "ddbl-demo-a"],
        ["ip", "link", "set", "ddbl-demo-n1", "up"],
        ["ip", "-n", "ddbl-demo-n1", "link", "set", "lo", "up"],
        ["ip", "-n", "ddbl-demo-n1", "addr", "add", "10.77.0.11/24", "dev", "eth0"],
        ["ip", "-n", "ddbl-demo-n1", "link", "set", "eth0", "up"],
    ]  # fmt: skip


def test_a_partition_moves_the_second_side_to_bridge_b_and_the_registry_stays_with_the_first() -> (
    None
):
    lab = plan("demo", 5)
    moves = {c[3]: c[5] for c in partition_commands(lab, ["n1", "n2"], ["n3", "n4", "n5"])}
    assert moves == {
        "ddbl-demo-reg": "ddbl-demo-a",
        "ddbl-demo-n1": "ddbl-demo-a",
        "ddbl-demo-n2": "ddbl-demo-a",
        "ddbl-demo-n3": "ddbl-demo-b",
        "ddbl-demo-n4": "ddbl-demo-b",
        "ddbl-demo-n5": "ddbl-demo-b",
    }
    assert {c[5] for c in heal_commands(lab)} == {"ddbl-demo-a"}


@pytest.mark.parametrize(
    ("side_a", "side_b", "error"),
    [
        (["n1", "n2"], ["n3", "n4"], "n5: every node must be on one side"),
        (["n1", "n2", "n3"], ["n3", "n4", "n5"], "n3: a node is on one side only"),
        (["n1", "n1"], ["n2", "n3", "n4", "n5"], "n1: a node is on one side only"),
        (["n1", "n2"], ["n3", "n4", "n9"], "'n9' is not a node of lab demo"),
        ([], ["n1", "n2", "n3", "n4", "n5"], "two sides"),
    ],
)
def test_a_partition_puts_every_node_on_exactly_one_side(
    side_a: list[str], side_b: list[str], error: str
) -> None:
    with pytest.raises(LabError, match=error):
        check_partition(plan("demo", 5), side_a, side_b)


def test_a_side_is_a_comma_separated_list() -> None:
    assert parse_side("n1,n2") == ["n1", "n2"]
    with pytest.raises(LabError, match="comma-separated"):
        parse_side(",")


def test_each_process_listens_on_its_own_address_and_advertises_it() -> None:
    lab = plan("demo", 2)
    assert registry_command(lab) == ["v2", "registry", "--host", "10.77.0.2", "--port", "8080"]
    assert node_command(lab, lab.nodes[1], ["--election", "bully"]) == [
        "v2.1", "node", "-ra", "http://10.77.0.2:8080", "--name", "n2", "--host", "10.77.0.12",
        "--advertise-host", "10.77.0.12", "--port", "8050", "--election", "bully",
    ]  # fmt: skip


def test_without_root_every_lab_command_says_why_in_one_line_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    for command in (
        ["up"],
        ["partition", "n1", "n2"],
        ["heal"],
        ["status"],
        ["workload"],
        ["down"],
    ):
        assert main(["lab", *command]) == 1
        assert capsys.readouterr().err == (
            "ddb: error: ddb lab needs root, to make network namespaces and links: run it as root\n"
        )


def test_election_flags_the_node_would_refuse_are_refused_before_anything_is_built(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(netns, "check_can_run", lambda: None)
    assert main(["lab", "up", "--election", "quorum", "--leader-timeout", "1"]) == 1
    assert "--leader-timeout is not a setting of quorum" in capsys.readouterr().err


def test_v3_nodes_refuse_an_election_and_bully_timings_before_anything_is_built(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(netns, "check_can_run", lambda: None)
    assert main(["lab", "up", "--stage", "v3", "--election", "quorum"]) == 1
    assert "--election: a v3 node always runs majority vote" in capsys.readouterr().err
    assert main(["lab", "up", "--stage", "v3", "--answer-timeout", "1"]) == 1
    assert "--answer-timeout: a v3 node always runs majority vote" in capsys.readouterr().err


def test_a_v3_node_is_started_like_a_v2_1_node_with_its_own_flags() -> None:
    lab = plan("demo", 1)
    command = node_command(lab, lab.nodes[0], ["--voters", "n1", "--data-dir", "/d/n1"], "v3")
    assert command[:2] == ["v3", "node"] and command[-4:] == [
        "--voters",
        "n1",
        "--data-dir",
        "/d/n1",
    ]


def test_the_client_host_has_a_leg_on_each_bridge_both_with_one_mac_address() -> None:
    lab = plan("abcdef", 3)
    client = host("abcdef", CLIENT)
    commands = client_commands(lab)
    assert commands[:8] == host_commands(lab, client)  # eth0 on bridge a, with .100
    assert client.address == "10.77.0.100"
    assert ["ip", "link", "set", "ddbl-abcdef-clb", "master", "ddbl-abcdef-b"] in commands
    macs = {c[5]: c[7] for c in commands if "address" in c}  # ip -n NS link set ETH address MAC
    assert macs == {"eth0": CLIENT_MAC, "eth1": CLIENT_MAC}
    assert max(len(c[3]) for c in commands if c[:3] == ["ip", "link", "add"]) <= IFNAME_MAX
    assert not [c for c in commands if "forwarding" in " ".join(c) or "default" in c]


def test_the_client_reaches_each_node_through_the_leg_on_its_side() -> None:
    lab = plan("demo", 3)
    via = {c[5]: c[7] for c in client_routes(lab, ["n3"])}
    assert via == {"10.77.0.11/32": "eth0", "10.77.0.12/32": "eth0", "10.77.0.13/32": "eth1"}
    assert {c[7] for c in client_routes(lab, [])} == {"eth0"}  # healed
