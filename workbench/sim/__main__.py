"""``python -m workbench.sim``: the simulator (same flags as ``ddb simulate``)."""

from workbench.sim.cli import main

raise SystemExit(main())
