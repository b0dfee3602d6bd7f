"""The ``syncer`` command line, face 1: each command parses its options, calls ONE service function
(:mod:`listing_sync.syncer.services`) and renders the typed result. No database code lives here.

:mod:`.app` holds the Typer app, the command groups, the error wrapper and the rendering helpers;
:mod:`.options` the shared options and option parsing; :mod:`.changeflow` the bulk-change flow. One
module per command group registers its commands when imported, below, in ``syncer --help`` order.
"""

# isort: off
from listing_sync.syncer.cli import system  # noqa: F401  (init, worker, db, warehouse, channels, emulator)
from listing_sync.syncer.cli import catalog  # noqa: F401
from listing_sync.syncer.cli import changes  # noqa: F401  (price, stock, changes, history)
from listing_sync.syncer.cli import mappings  # noqa: F401  (categories, attributes)
from listing_sync.syncer.cli import listings  # noqa: F401
from listing_sync.syncer.cli import sync  # noqa: F401  (sync, status)
from listing_sync.syncer.cli import orders  # noqa: F401
from listing_sync.syncer.cli import fx  # noqa: F401
from listing_sync.syncer.cli import reports  # noqa: F401  (report)
from listing_sync.syncer.cli import webhooks  # noqa: F401
from listing_sync.syncer.cli import demo  # noqa: F401
from listing_sync.syncer.cli import users  # noqa: F401  (users, tokens, serve)

# isort: on
from listing_sync.syncer.cli.app import main

__all__ = ["main"]
