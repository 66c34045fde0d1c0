"""Entry points: ``python -m system api|worker|migrate`` (also the ``image-jobs`` script)."""

from __future__ import annotations

import argparse
import logging
import sys

from system.errors import ConfigError
from system.log import configure
from system.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="image-jobs", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    api = sub.add_parser("api", help="serve the HTTP API with uvicorn")
    api.add_argument("--host", help="listen address (API_HOST)")
    api.add_argument("--port", type=int, help="listen port (API_PORT)")
    sub.add_parser("worker", help="process jobs (and reconcile, when leader)")
    sub.add_parser("migrate", help="create or upgrade the database schema, then exit")
    args = parser.parse_args(argv)

    try:
        overrides = {}
        if getattr(args, "host", None):
            overrides["api_host"] = args.host
        if getattr(args, "port", None):
            overrides["api_port"] = args.port
        settings = Settings.from_env(**overrides)
    except ConfigError as exc:
        print(f"image-jobs: configuration error: {exc}", file=sys.stderr)
        return 2
    configure(settings.log_level, name=args.command)
    logging.getLogger("system").info("Settings: %s", settings.public())

    if args.command == "api":
        import uvicorn

        from system.api import create_app

        uvicorn.run(
            create_app(settings),
            host=settings.api_host,
            port=settings.api_port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        return 0
    if args.command == "worker":
        from system.worker import main as worker_main

        return worker_main(settings)
    from system import schema
    from system.db import Database

    schema.prepare(Database(settings.database_url, size=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
