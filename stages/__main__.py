"""``python -m stages`` is the same as the ``ddb`` command."""

from stages.cli import main

raise SystemExit(main())
