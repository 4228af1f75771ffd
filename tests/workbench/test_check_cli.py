"""``ddb check``: the verdict as an exit status, and every bad file refused with its line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import workbench.history
from workbench.harness import run_ddb
from workbench.history.events import FUNCTIONS, MAX_PROCESS, TYPES
from workbench.history.figures import DOCS, FIGURES, write_all
from workbench.history.synthetic import valid_history

DOCS_FIGURES = DOCS / "figures"
SCHEMA = Path(workbench.history.__file__).with_name("history.schema.json")

STALE = [
    {"process": 0, "type": "invoke", "f": "write", "key": "x", "value": 1},
    {"process": 0, "type": "ok", "f": "write", "key": "x", "value": 1},
    {"process": 1, "type": "invoke", "f": "read", "key": "x", "value": None},
    {"process": 1, "type": "ok", "f": "read", "key": "x", "value": None},
]


def write(path: Path, events: list[dict] | list[str]) -> Path:
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events))
    return path


def test_a_linearizable_history_exits_0_and_says_how_much_it_checked(tmp_path: Path) -> None:
    result = run_ddb("check", str(write(tmp_path / "h.jsonl", valid_history(500, keys=4))))
    assert result.returncode == 0
    # failed cas operations did not happen: they are dropped, and not counted
    assert re.fullmatch(
        r"linearizable: checked 4\d\d operations over 4 keys in \d+\.\d\d s\n",
        result.stdout.decode(),
    )


def test_a_stale_read_exits_1_naming_the_read_and_the_order_before_it(tmp_path: Path) -> None:
    result = run_ddb(
        "check", str(write(tmp_path / "h.jsonl", STALE)), "--svg", str(tmp_path / "h.svg")
    )
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    assert lines[:4] == [
        "not linearizable: key x, 2 operations",
        "  cannot place: p1 read missing x (lines 3-4)",
        "  after the longest order that works (1 operation):",
        "    p0 write 1 x (lines 1-2)",
    ]
    assert "#ef9a9a" in (tmp_path / "h.svg").read_text()


def test_json_gives_the_verdict_for_scripts(tmp_path: Path) -> None:
    result = run_ddb("check", "--json", str(write(tmp_path / "h.jsonl", STALE)))
    verdict = json.loads(result.stdout)
    assert result.returncode == 1
    assert (verdict["linearizable"], verdict["operations"], verdict["keys"]) == (False, 2, 1)
    assert verdict["failed"][0]["stuck"] == {
        "process": 1,
        "f": "read",
        "key": "x",
        "value": None,
        "call": 3,
        "return": 4,
        "status": "ok",
        "node": None,
    }


def test_a_spent_budget_exits_2_unknown(tmp_path: Path) -> None:
    path = write(tmp_path / "h.jsonl", valid_history(300, keys=1))
    result = run_ddb("check", "--max-steps", "5", str(path))
    assert result.returncode == 2
    assert "unknown: key k0: the budget ran out after 6 steps" in result.stdout.decode()


def test_jepsen_edn_histories_are_read_and_the_nemesis_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "h.edn"
    path.write_text(
        "{:process 0, :type :invoke, :f :write, :value 3}\n"
        "{:process 0, :type :ok, :f :write, :value 3}\n"
        "{:process :nemesis, :type :info, :f :start, :value nil}\n"
        "{:process 1, :type :invoke, :f :cas, :value [3 4]}\n"
        "{:process 1, :type :ok, :f :cas, :value [3 4]}\n"
        "{:process 2, :type :invoke, :f :read, :value nil}\n"
        "{:process 2, :type :ok, :f :read, :value 3}\n"
    )
    result = run_ddb("check", str(path))
    assert result.returncode == 1
    assert "cannot place: p2 read 3 (lines 6-7)" in result.stdout.decode()


def test_knossos_files_independent_keys_and_nil_reads_are_read_as_jepsen_means_them(
    tmp_path: Path,
) -> None:
    """Knossos's data files are one vector of maps, one per line; ``jepsen.independent`` puts
    the key in the value; a read of nil read something unknown (Knossos's register model)."""
    path = tmp_path / "knossos.edn"
    path.write_text(
        "; a comment first\n"
        "[{:process 0, :type :invoke, :f :write, :value [:a 1]}\n"
        " {:process 0, :type :ok, :f :write, :value [:a 1]}\n"
        " {:process 1, :type :invoke, :f :read, :value [:a nil]}\n"
        " {:process 1, :type :ok, :f :read, :value [:a nil]}\n"
        " {:process 2, :type :invoke, :f :read, :value nil, :time 5}\n"
        " {:process 2, :type :info, :f :read, :error {:via [{:type java.net.SocketTimeoutException,"
        ' :message "timed out"}]}}\n'
        " {:process 3, :type :invoke, :f :cas, :value [:a [1 2]]}\n"
        " {:process 3, :type :ok, :f :cas, :value [:a [1 2]]}]\n"
    )
    result = run_ddb("check", "--json", str(path))
    verdict = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert (verdict["operations"], verdict["keys"]) == (2, 1)  # the nil read constrains nothing


BAD = {
    "not JSON": (['{"process": 0,'], "line 1: not JSON"),
    "an unknown f": ([{"process": 0, "type": "invoke", "f": "inc"}], "line 1: 'f' must be one of"),
    "an unknown type": (
        [{"process": 0, "type": "done", "f": "read"}],
        "line 1: 'type' must be one of",
    ),
    "a return without its call": (
        [{"process": 0, "type": "ok", "f": "read", "value": 1}],
        "line 1: a return (ok) without its call",
    ),
    "a process reused after info": (
        [
            {"process": 0, "type": "invoke", "f": "write", "value": 1},
            {"process": 0, "type": "info", "f": "write", "value": 1},
            {"process": 0, "type": "invoke", "f": "read"},
        ],
        "line 3: process 0 ended with info on line 2",
    ),
    "a second call before the first returned": (
        [
            {"process": 0, "type": "invoke", "f": "read"},
            {"process": 0, "type": "invoke", "f": "read"},
        ],
        "line 2: process 0 calls again before its call on line 1 returned",
    ),
    "a return of another operation": (
        [
            {"process": 0, "type": "invoke", "f": "read", "key": "a"},
            {"process": 0, "type": "ok", "f": "write", "key": "a", "value": 1},
        ],
        "line 2: this write of 'a' returns a call that was a read of 'a'",
    ),
    "a cas without its pair": (
        [{"process": 0, "type": "invoke", "f": "cas", "value": 1}],
        "line 1: a cas's 'value' is",
    ),
    "a value that is an object": (
        [{"process": 0, "type": "invoke", "f": "write", "value": {"a": 1}}],
        "line 1: 'value' must be",
    ),
    "a process that is not a number": (
        [{"process": "p1", "type": "invoke", "f": "read"}],
        "line 1: 'process' must be a whole number",
    ),
    "EDN this reader does not know": (
        ["{:process 0, :type :invoke, :f :write, :value 1.5}"],
        "line 1: not EDN",
    ),
    "a 5,000-digit number": (
        ['{"process": 0, "type": "invoke", "f": "write", "value": ' + "9" * 5000 + "}"],
        "line 1: not JSON that can be read",
    ),
    "2,000 brackets deep": (
        ['{"process": 0, "value": ' + "[" * 2000 + "]" * 2000 + "}"],
        "line 1: not JSON that can be read",
    ),
    "a completion that changes its value": (
        [
            {"process": 0, "type": "invoke", "f": "write", "value": 1},
            {"process": 0, "type": "ok", "f": "write", "value": 2},
        ],
        "line 2: this write returns 2, but its call (line 1) was for 1",
    ),
    "a read that does not say what it read": (
        [{"process": 0, "type": "invoke", "f": "read"}, {"process": 0, "type": "ok", "f": "read"}],
        "line 2: a read's ok must say what it read",
    ),
    "a key that is not UTF-8 text": (
        ['{"process": 0, "type": "invoke", "f": "read", "key": "\\ud800"}'],
        "line 1: 'key' is not text that UTF-8 can encode",
    ),
    "EDN nested too deep": (
        ["{:process 0, :value " + "[" * 40 + "]" * 40 + "}"],
        "nested more than 32 deep",
    ),
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_file_is_one_line_with_its_line_number_and_exit_3(tmp_path: Path, name: str) -> None:
    events, message = BAD[name]
    result = run_ddb("check", str(write(tmp_path / "bad.jsonl", events)))
    assert result.returncode == 3
    assert result.stdout == b""
    (line,) = result.stderr.decode().splitlines()
    assert line.startswith(f"ddb: error: {tmp_path / 'bad.jsonl'}, ")
    assert message in line


def test_a_missing_file_and_a_bad_flag_exit_3_too(tmp_path: Path) -> None:
    missing = run_ddb("check", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 3
    assert "cannot read" in missing.stderr.decode() and "No such file" in missing.stderr.decode()
    flag = run_ddb("check", "--max-steps", "lots", str(tmp_path / "nope.jsonl"))
    assert flag.returncode == 3
    assert "'lots' is not a whole number greater than 0" in flag.stderr.decode()


def test_the_json_schema_names_what_the_reader_accepts() -> None:
    schema = json.loads((SCHEMA).read_text())
    assert tuple(schema["properties"]["type"]["enum"]) == TYPES
    assert tuple(schema["properties"]["f"]["enum"]) == FUNCTIONS
    assert schema["properties"]["process"]["maximum"] == MAX_PROCESS


def test_the_figures_in_the_docs_are_what_the_checker_draws_today(tmp_path: Path) -> None:
    for path in write_all(tmp_path):
        committed = DOCS_FIGURES / path.name
        assert committed.exists(), f"run `make figures` to create {committed}"
        assert path.read_bytes() == committed.read_bytes(), f"run `make figures`: {path.name}"
    assert len(FIGURES) == len(list(DOCS_FIGURES.glob("history-*.svg")))
