"""``python -m stages.v1_kv``: run the v1 server (same flags as ``ddb v1 server``)."""

from stages.v1_kv.cli import server_main

raise SystemExit(server_main())
