"""``python -m stages.v2_2_replication``: run a v2.2 node (same flags as ``ddb v2.2 node``)."""

from stages.v2_2_replication.cli import node_main

raise SystemExit(node_main())
