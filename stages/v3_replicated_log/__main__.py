"""``python -m stages.v3_replicated_log``: run a v3.0 node (same flags as ``ddb v3 node``)."""

from stages.v3_replicated_log.cli import node_main

raise SystemExit(node_main())
