"""``provkit serve``: run the API with uvicorn."""

from __future__ import annotations

import click

from service.cli.common import load_settings


@click.command("serve")
@click.option("--host", default=None, help="Bind address (default from settings: 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(0, 65535), help="Port (default 8000).")
@click.option("--workers", default=None, type=click.IntRange(1, 64), help="Worker processes.")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Initialise the store and serve the verification API."""
    import os
    import sys

    import uvicorn

    from service.httpserver import HeaderTimeoutProtocol
    from service.logging import uvicorn_log_config
    from service.schema import upgrade

    # worker processes give the parallelism; numeric libraries stay single-threaded in each
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    # heavy work runs on a thread pool; glibc gives each thread its own malloc arena by default,
    # and a worker's memory then creeps up as more threads take a turn: two arenas are plenty
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")

    s = load_settings()
    s.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(s.db_url)
    host = host or s.host
    port = s.port if port is None else port
    base = f"http://{host}:{port}"
    if sys.stderr.isatty():  # for a person at a terminal; piped or collected stderr is JSON only
        click.echo(f"provkit API on {base}  (docs: {base}/docs, health: {base}/healthz)", err=True)
        click.echo(
            "Create an API key for the web page with: "
            "provkit keys create --scope verify --scope screen --name me",
            err=True,
        )
    uvicorn.run(
        "service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers or s.workers,
        log_level=s.log_level.lower(),
        # provkit's JSON access log (service.middleware) replaces uvicorn's plain-text one, which
        # would record full URLs, query strings included
        access_log=False,
        log_config=uvicorn_log_config(s.log_level),
        http=HeaderTimeoutProtocol,
    )
