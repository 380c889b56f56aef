"""`herplaatsing`: run, migrate, replay and operate the system.

    herplaatsing up            start everything (embedded PostgreSQL + NATS unless DATABASE_URL / NATS_URL are set)
                               and load the demo data into an empty system (--no-demo to skip)
    herplaatsing demo          load the national demo scenario through the gateway (idempotent)
    herplaatsing migrate       create the service databases and upgrade every Alembic history
    herplaatsing serve SVC     run one service (containers, deploy/)
    herplaatsing replay SVC    re-publish a service's retained outbox events
    herplaatsing token ...     mint a bearer token for the public API
    herplaatsing asyncapi      write (or --check) docs/asyncapi.json
    herplaatsing openapi       write (or --check) docs/openapi.json, composed from the services' documents
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import os
import sys
from pathlib import Path

from herplaatsing.registry import DEFAULT_BASE_PORT, SERVICES, STATEFUL
from shared.config import ServiceSettings


def _cmd_migrate(args: argparse.Namespace) -> int:
    server = args.database_url or os.environ.get("DATABASE_URL")
    if not server:
        print("DATABASE_URL is not set (it names the PostgreSQL server; each service gets its own database)", file=sys.stderr)
        return 2
    unknown = [name for name in args.service if name not in STATEFUL]
    if unknown:
        print(f"unknown service(s): {', '.join(unknown)}; choose from {', '.join(STATEFUL)}", file=sys.stderr)
        return 2
    from herplaatsing.migrations import migrate_all

    migrate_all(server, args.service or None)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from shared.config import uvicorn_proxy_options
    from shared.logs import uvicorn_log_config

    os.environ.setdefault("SERVICE_NAME", args.service)
    service = SERVICES[args.service]
    port = args.port or int(os.environ.get("PORT", service.port()))
    uvicorn.run(
        service.app,
        factory=True,
        host=args.host or os.environ.get("HOST", "0.0.0.0"),
        port=port,
        access_log=False,  # the app logs one JSON line per request itself (with the correlation id)
        log_config=uvicorn_log_config(args.service),
        timeout_graceful_shutdown=10,
        **uvicorn_proxy_options(os.environ.get("TRUSTED_PROXIES", "")),  # type: ignore[arg-type]
    )
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    from shared.bus.nats import connect, ensure_stream
    from shared.bus.outbox import replay_outbox
    from shared.db import Database

    module = importlib.import_module(SERVICES[args.service].bus_tables)
    settings = ServiceSettings(service_name=args.service)
    if not settings.database_url:
        print("DATABASE_URL (the service's own database) is not set", file=sys.stderr)
        return 2
    since = dt.datetime.fromisoformat(args.since) if args.since else None

    async def run() -> int:
        db = Database(settings.database_url, service=args.service)
        nc = await connect(settings)
        try:
            js = nc.jetstream()
            await ensure_stream(js, settings)
            return await replay_outbox(db, module.bus_tables, js, settings, since=since)
        finally:
            await nc.close()
            await db.dispose()

    count = asyncio.run(run())
    print(f"replayed {count} events from the {args.service} outbox")
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    from shared.web.identity import mint_user_token

    settings = ServiceSettings()
    if args.role != "marktmeester" and not args.org:
        print("--org is required for investors (organisation id) and municipalities (GMxxxx)", file=sys.stderr)
        return 2
    print(mint_user_token(settings, args.sub or f"{args.role}-{args.org or 'rvo'}", args.role, args.org, ttl_s=args.ttl))
    return 0


def _write_or_check(args: argparse.Namespace, path: Path, rendered: str) -> int:
    """Write a generated document, or with --check fail when the committed one differs."""
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != rendered:
            print(f"{path} is out of date: run `herplaatsing {args.command}`", file=sys.stderr)
            return 1
        print(f"{args.command} document is up to date")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rendered, encoding="utf-8")
    print(f"wrote {path}")
    return 0


def _cmd_asyncapi(args: argparse.Namespace) -> int:
    from shared.events.asyncapi import DOCUMENT_PATH, render

    return _write_or_check(args, DOCUMENT_PATH, render())


def _cmd_openapi(args: argparse.Namespace) -> int:
    from herplaatsing.openapi import service_documents
    from services.gateway.app.openapi import DOCUMENT_PATH, render

    return _write_or_check(args, DOCUMENT_PATH, render(service_documents()))


def _cmd_up(args: argparse.Namespace) -> int:
    from herplaatsing.runner import run_system

    return run_system(
        home=args.home, base_port=args.base_port, today=args.today, demo=not args.no_demo, demo_scale=args.demo_scale
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    from herplaatsing.demo.loader import DemoLoadError, load_demo

    gateway = args.gateway.rstrip("/")
    try:
        report = load_demo(gateway, scale=args.scale, seed=args.seed, progress=not args.quiet)
    except DemoLoadError as exc:
        print(f"demo load failed: {exc}", file=sys.stderr)
        return 1
    print(report.scenario)
    print(report.describe())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="herplaatsing", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the whole system (embedded PostgreSQL + NATS by default)")
    up.add_argument("--home", default=os.environ.get("HERPLAATSING_HOME", ".herplaatsing"), help="data directory")
    up.add_argument("--base-port", type=int, default=int(os.environ.get("HERPLAATSING_BASE_PORT", DEFAULT_BASE_PORT)),
                    help="gateway port; inventory, sites, matching take the next three")
    up.add_argument("--today", default=os.environ.get("TODAY"), help="pin the clock (YYYY-MM-DD)")
    up.add_argument("--no-demo", action="store_true", help="do not load the demo data into an empty system")
    up.add_argument("--demo-scale", type=float, default=float(os.environ.get("DEMO_SCALE", "0.5")),
                    help="demo size (1.0 = the full national figures, about 30,000 homes)")
    up.set_defaults(func=_cmd_up)

    demo = sub.add_parser("demo", help="load the national demo scenario through the gateway's public API")
    demo.add_argument("--gateway", default=os.environ.get("GATEWAY_URL", f"http://127.0.0.1:{DEFAULT_BASE_PORT}"), help="gateway base URL")
    demo.add_argument("--scale", type=float, default=0.5, help="1.0 = the full national figures (about 30,000 homes)")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=_cmd_demo)

    mig = sub.add_parser("migrate", help="create the databases and apply every service's migrations")
    # no `choices` here: argparse (3.11) checks the empty default against them and fails
    mig.add_argument("service", nargs="*", help=f"default: all ({', '.join(STATEFUL)})")
    mig.add_argument("--database-url", help="the PostgreSQL server (default: $DATABASE_URL)")
    mig.set_defaults(func=_cmd_migrate)

    serve = sub.add_parser("serve", help="run one service")
    serve.add_argument("service", choices=list(SERVICES))
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=_cmd_serve)

    replay = sub.add_parser("replay", help="re-publish a service's retained outbox events (after broker data loss)")
    replay.add_argument("service", choices=list(STATEFUL))
    replay.add_argument("--since", help="only events created since this ISO date-time")
    replay.set_defaults(func=_cmd_replay)

    token = sub.add_parser("token", help="mint a bearer token for the public API")
    token.add_argument("--role", required=True, choices=["marktmeester", "investor", "municipality"])
    token.add_argument("--org", help="investor organisation id, or GMxxxx for a municipality")
    token.add_argument("--sub", help="subject (user id)")
    token.add_argument("--ttl", type=int, default=3600, help="seconds")
    token.set_defaults(func=_cmd_token)

    asyncapi = sub.add_parser("asyncapi", help="write docs/asyncapi.json from the event models")
    asyncapi.add_argument("--check", action="store_true", help="fail if the committed document is out of date")
    asyncapi.set_defaults(func=_cmd_asyncapi)

    openapi = sub.add_parser("openapi", help="write docs/openapi.json, composed from the services' own documents")
    openapi.add_argument("--check", action="store_true", help="fail if the committed document is out of date")
    openapi.set_defaults(func=_cmd_openapi)
    return parser


# Everywhere else ENVIRONMENT must be set explicitly (shared/config.py has no default).
LOCAL_COMMANDS = ("up", "demo", "token")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in LOCAL_COMMANDS:  # the embedded system on this machine is a development one
        os.environ.setdefault("ENVIRONMENT", "development")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
