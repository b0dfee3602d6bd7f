"""The service layer: every user-visible action is ONE function taking typed parameters and returning a
typed result that any face (the CLI now, a web console or HTTP API later) renders.

Faces import the module they need (``from listing_sync.syncer.services import catalog``), so starting
the CLI loads none of them until a command runs. Modules, one per area:

- :mod:`.common`: the typed errors, channel rows, files written, the file formats
- :mod:`.system`: init, database upgrade, warehouses, channels, emulator serving, worker set-up, demo
- :mod:`.catalog`: catalog import, export and show
- :mod:`.changes`: bulk change requests, preview, apply (confirmation is a parameter), change sets, history
- :mod:`.listings`: the publish gap report (publish, delist and relist are change requests)
- :mod:`.sync`: sync trigger (queued or inline), dry-run plan, drift check, status, the per-channel steps
- :mod:`.scheduler`: :class:`~.scheduler.SyncScheduler`, the queue a face passes in (jobs/ implements it)
- :mod:`.orders`: orders pull, list, export, pick list, receive return
- :mod:`.reports`: sales, inventory and reorder reports, the monthly report
- :mod:`.fx`: exchange rates: set, import, list
- :mod:`.mappings`: category and attribute mappings: map, unmap, list, import, export
- :mod:`.check`: ``syncer check``: levels = ledger, orders recorded once, leases sane
"""
