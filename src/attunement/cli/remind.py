"""`attune remind`: queue and send the due e-mail reminders (appointments, check links).

``attune serve`` does this every minute when SMTP is configured; ``attune remind --once``
runs one round (for cron, or a server started with ``--no-worker``), and without
``--once`` it keeps running a round a minute until interrupted. SMTP settings come from
the ``ATTUNEMENT_SMTP_*`` variables (see :mod:`attunement.store.mail`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from attunement.cli.serve import DB_HELP, KEY_HELP, _need_web
from attunement.errors import AttunementError


def register(app: typer.Typer) -> None:
    @app.command("remind")
    def remind_cmd(
        once: bool = typer.Option(False, "--once", help="One round, then exit."),
        database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
        key_file: Path | None = typer.Option(None, "--key-file", help=KEY_HELP),
    ) -> None:
        """Send the e-mail reminders that are due (needs ATTUNEMENT_SMTP_HOST and _FROM)."""
        _need_web()
        import threading

        from attunement.store import mail
        from attunement.store.db import Store
        from attunement.store.reminders import Reminders
        from attunement.web.settings import Settings

        smtp = mail.MailSettings.from_env()
        if not smtp.configured:
            raise AttunementError("is not set: e-mail is off", where="ATTUNEMENT_SMTP_HOST")
        settings = Settings.from_env(database_url=database_url, key_file=key_file)
        store = Store.open(settings.database_url, settings.key_file)
        loop = Reminders(store, smtp)
        try:
            while True:
                r = loop.tick()
                typer.echo(
                    f"attune: reminders: {r.queued} queued, {r.sent} sent, "
                    f"{r.retrying} to retry, {r.failed} failed, {r.skipped} skipped",
                    err=True,
                )
                if once:
                    return
                threading.Event().wait(loop.interval)
        finally:
            store.close()
