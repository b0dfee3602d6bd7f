"""The web face (face 2, beside the CLI): the HTTP API under ``/api``, the console's HTML pages, the
login, and the order webhooks. Like :mod:`listing_sync.syncer.cli` it calls the service functions and
never reimplements them; only the CLI's ``syncer serve`` (and ``__main__``) imports it.

:mod:`.app` builds the application (:func:`~.app.create_app`); :mod:`.deps` holds what routes depend on
(context, user, role, CSRF); :mod:`.auth` the session cookie and the login; :mod:`.api` the JSON routes.
"""
