"""``python -m stages.v2_registry``: run the registry (same flags as ``ddb v2 registry``)."""

from stages.v2_registry.cli import registry_main

raise SystemExit(registry_main())
