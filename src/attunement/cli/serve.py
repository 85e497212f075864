"""`attune serve`, `attune add-user`, `attune rotate-key`: run and administer the clinic app.

Thin: settings come from :class:`attunement.web.settings.Settings` (environment, then
these options); the work is done by ``attunement.web`` and ``attunement.store``. The web
stack is imported only when a command runs (``pip install 'attunement[web]'``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import typer

from attunement.errors import AttunementError, missing_extra

DB_HELP = (
    "Database: sqlite:///FILE (default: ~/.attunement/attunement.db) or postgresql://… "
    "(or set DATABASE_URL)."
)
KEY_HELP = "Key file (default: ~/.attunement/attunement.key, created 0600; or ATTUNEMENT_KEY)."


def _need_web() -> None:
    for module, package in (("fastapi", "fastapi"), ("sqlalchemy", "sqlalchemy")):
        if importlib.util.find_spec(module) is None:
            raise missing_extra(package, "web")


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
        database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
        key_file: Path | None = typer.Option(None, "--key-file", help=KEY_HELP),
        fast: bool = typer.Option(
            False, "--fast", help="Analyze uploads with the bundled fast coding model."
        ),
        no_worker: bool = typer.Option(
            False, "--no-worker", help="Do not run analysis jobs in this process."
        ),
        demo: bool = typer.Option(
            False,
            "--demo",
            help="Build a fresh demo clinic (fictional data) in --demo-dir and serve it; "
            "prints the demo sign-ins. Uses the fast model unless ATTUNEMENT_MODEL is set.",
        ),
        demo_dir: Path = typer.Option(
            Path("demo-clinic"), "--demo-dir", help="Folder for the demo database and key."
        ),
    ) -> None:
        """Start the clinic web app (migrates the database to the newest schema first).

        Sign in at http://HOST:PORT/login; the JSON API is under /api/ (OpenAPI document at
        /api/openapi.json). Create the first admin with `attune add-user`, or try
        `attune serve --demo`.
        """
        _need_web()
        import os

        import uvicorn

        from attunement.web.app import create_app
        from attunement.web.settings import Settings

        address = f"http://{host}:{port}/login"
        if demo and (database_url or key_file):
            raise AttunementError(
                "--demo builds its own database: drop --database-url and --key-file",
                where="--demo",
            )
        if demo:
            database_url = f"sqlite:///{demo_dir.resolve() / 'demo.db'}"
            key_file = demo_dir.resolve() / "demo.key"
            fast = fast or "ATTUNEMENT_MODEL" not in os.environ
        settings = Settings.from_env(
            database_url=database_url,
            key_file=key_file,
            model="fast" if fast else None,
            start_worker=False if no_worker else None,
        )
        clinic = None
        if demo:
            from attunement.web.demo import build_demo

            typer.echo("attune: building the demo clinic…", err=True)
            clinic = build_demo(demo_dir.resolve(), model=settings.model)
        web = create_app(settings)
        if clinic is not None:
            typer.echo(clinic.describe(address))
        typer.echo(f"attune: serving on {address}", err=True)
        uvicorn.run(web, host=host, port=port, log_level="warning", proxy_headers=False)

    @app.command("add-user")
    def add_user_cmd(
        username: str = typer.Argument(..., help="Lower-case user name."),
        role: str = typer.Option(..., "--role", help="admin, therapist, supervisor or trainee."),
        database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
        key_file: Path | None = typer.Option(None, "--key-file", help=KEY_HELP),
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the password from standard input."
        ),
    ) -> None:
        """Create a user (admins get a two-factor secret, printed once)."""
        _need_web()
        import sys

        from attunement.store import audit, repo
        from attunement.store.db import Store
        from attunement.web import security
        from attunement.web.settings import Settings

        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        problem = security.password_problem(password)
        if problem:
            raise AttunementError(problem, where="password")
        settings = Settings.from_env(database_url=database_url, key_file=key_file)
        store = Store.open(settings.database_url, settings.key_file)
        try:
            secret = security.new_totp_secret() if role == "admin" else None
            with store.tx() as db:
                user = repo.create_user(
                    db,
                    username,
                    role,
                    security.hash_password(password),
                    store.keys.encrypt_text(secret, "users.totp_secret") if secret else None,
                )
                audit.append(
                    db,
                    actor_id=None,
                    actor="cli",
                    action="user.create",
                    object_type="user",
                    object_id=user.id,
                )
        finally:
            store.close()
        typer.echo(f"created {role} {username}")
        if secret:
            typer.echo(f"two-factor secret (add it to an authenticator app): {secret}")
            typer.echo(security.totp_uri(secret, username))

    @app.command("rotate-key")
    def rotate_key_cmd(
        database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
        key_file: Path | None = typer.Option(None, "--key-file", help=KEY_HELP),
    ) -> None:
        """Re-encrypt everything stored with a new key and retire the old key(s).

        Stop the server first. Works on key files only (with ATTUNEMENT_KEY, set a new
        key yourself).
        """
        _need_web()
        import os

        from attunement.store.engine import make_engine, migrate
        from attunement.store.rotate import rotate_key
        from attunement.web.settings import Settings

        if os.environ.get("ATTUNEMENT_KEY"):
            raise AttunementError(
                "rotate-key works on a key file; unset ATTUNEMENT_KEY", where="ATTUNEMENT_KEY"
            )
        settings = Settings.from_env(database_url=database_url, key_file=key_file)
        assert settings.key_file is not None
        engine = make_engine(settings.database_url)
        try:
            migrate(engine)
            result = rotate_key(engine, settings.key_file)
        finally:
            engine.dispose()
        typer.echo(
            f"re-encrypted {result.values} values with key {result.new_id} "
            f"(retired {', '.join(result.old_ids)})"
        )
