"""What ``ddb nemesis`` starts for each stage: the flags of each node, on every start."""

from __future__ import annotations

from pathlib import Path

from workbench.nemesis.stages import ReplicatedLog, Replication, under_test

NAMES = ["n1", "n2", "n3"]


def test_a_v3_node_gets_the_voters_and_its_own_data_directory_on_every_start() -> None:
    subject = under_test("v3", "bully", NAMES, Path("/runs/run-1.data"))
    assert isinstance(subject, ReplicatedLog)
    expected = ("--voters", "n1,n2,n3", "--data-dir", "/runs/run-1.data/n2")
    assert subject.flags("n2") == expected
    assert subject.flags("n2") == expected  # a restart finds what the node wrote before
    assert subject.read_query == "?consistency=stale"  # a node's own copy, not the leader's


def test_a_v2_2_node_gets_its_election_and_reads_its_own_store() -> None:
    assert under_test("v2.2", "bully", NAMES, Path()).flags("n1") == ("--election", "bully")
    subject = under_test("v2.2", "quorum", NAMES, Path())
    assert isinstance(subject, Replication)
    assert subject.flags("n1") == ("--election", "quorum", "--voters", "n1,n2,n3")
    assert subject.read_query == ""
