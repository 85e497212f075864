"""The clinic app: ``create_app()`` (FastAPI), ``deps`` (sign-in, permissions, CSRF),
``routes/`` (pages and the JSON API), ``templates/`` and ``static/``. Needs the ``web``
extra; see ``docs/app.md``."""
