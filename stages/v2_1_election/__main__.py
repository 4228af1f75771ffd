"""``python -m stages.v2_1_election``: run a v2.1 node (same flags as ``ddb v2.1 node``)."""

from stages.v2_1_election.cli import node_main

raise SystemExit(node_main())
