"""``python -m server``: the same CLI as ``legato-server``."""

from server.cli import main

raise SystemExit(main())
