"""Real processes: a leader stopped with SIGTERM hands over faster than one killed outright.

Three trials of each (``python -m workbench.failover --trials 20`` measures
more, for the docs). A resigning leader's survivors elect at once; a killed
leader's survivors first wait ``leader_timeout`` of silence.
"""

from __future__ import annotations

import signal
import statistics

import pytest

from stages.v2_1_election.bully import ElectionConfig
from workbench.cluster import Cluster
from workbench.failover import NAMES, summary, trials
from workbench.harness import Processes

pytestmark = [pytest.mark.timeout(90), pytest.mark.slow]

DEFAULTS = ElectionConfig()


async def test_a_leader_stopped_with_sigterm_is_replaced_before_any_leader_timeout(
    processes: Processes,
) -> None:
    cluster = Cluster(processes)
    await cluster.start_registry()
    await cluster.start_nodes(NAMES)
    term_times = await trials(cluster, signal.SIGTERM, 3)
    kill_times = await trials(cluster, signal.SIGKILL, 3)
    figures = f"{summary('SIGTERM', term_times)}; {summary('SIGKILL', kill_times)}"
    print(figures)
    # Measured on 2 busy cores: SIGTERM median 0.25 s, SIGKILL median 0.73 s.
    assert statistics.median(term_times) < DEFAULTS.leader_timeout, figures
    assert statistics.median(term_times) < statistics.median(kill_times), figures
    resigned = [proc.log for proc in processes.started if "resigned as leader" in proc.log]
    assert len(resigned) == 3, "each leader stopped with SIGTERM resigned"
    for log in resigned:
        assert log.index("resigned as leader") < log.index("deregistered from the registry"), (
            "a leader resigns before it deregisters"
        )
