"""``python -m stages.v2_1_election.sim``: the simulator (same flags as ``ddb simulate``)."""

from stages.v2_1_election.sim.cli import main

raise SystemExit(main())
