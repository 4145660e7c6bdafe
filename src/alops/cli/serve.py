"""``alops serve``: a model package's REST endpoint on uvicorn (the serving image's entrypoint)."""

from __future__ import annotations

import functools
import socket
from pathlib import Path
from typing import Any

import click

from alops.errors import Terminated, ToolError

# uvicorn waits this long for requests in flight after SIGTERM: under `docker stop`'s 10 s.
GRACEFUL_S = 8


@click.command()
@click.option(
    "--package",
    "package_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The model package's folder (alops-package.json, model/, predictor.py): what `alops package` extracts.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on (0.0.0.0: all).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="The TCP port.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes, each with its own copy of the model (the predictor is CPU-bound).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="uvicorn's log level; the access log (method, path, status; never bodies) is at info.",
)
@click.option(
    "--max-body-bytes",
    default=10 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(1),
    help="A larger request body gets 413, refused before it is read whole.",
)
@click.option(
    "--max-instances", default=10_000, show_default=True, type=click.IntRange(1), help="Rows one request may hold."
)
def serve(
    package_dir: Path, host: str, port: int, workers: int, log_level: str, max_body_bytes: int, max_instances: int
) -> None:
    """Serve a model package over HTTP: POST /v1/models/NAME:predict, GET /v1/models/NAME, GET /healthz.

    The package is loaded before the port is opened: a broken one is an error, not a
    server that answers 500. SIGTERM stops it after the requests in flight (exit 0).
    """
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from alops.serve.app import create_app, from_package
    from alops.serve.predictor import load
    from alops.text import safe

    served = load(package_dir)
    logging_config: dict[str, Any] = {**LOGGING_CONFIG, "loggers": dict(LOGGING_CONFIG["loggers"])}
    logging_config["loggers"]["alops.serve"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    click.echo(safe(f"serving {served.name} {served.version} from {package_dir} on http://{host}:{port}"), err=True)
    options: dict[str, Any] = dict(
        host=host,
        port=port,
        log_level=log_level,
        log_config=logging_config,
        access_log=True,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_S,
    )
    try:
        if workers == 1:
            uvicorn.run(create_app(served, max_body_bytes=max_body_bytes, max_instances=max_instances), **options)
        else:
            from uvicorn.supervisors import Multiprocess

            # What uvicorn.run does for workers > 1, with a factory instead of an import string:
            # each worker process loads the package itself (the partial is pickled to it).
            factory = functools.partial(from_package, package_dir.absolute(), max_body_bytes, max_instances)
            config = uvicorn.Config(factory, factory=True, workers=workers, **options)
            bound = config.bind_socket()
            # uvicorn binds with proto 0, which the workers' asyncio reads as "not TCP" and so leaves
            # Nagle's algorithm on: every answer (headers, then body) then waits 40 ms for a delayed
            # ACK (measured: 44 ms a request with 2 workers, 1.3 ms with 1). Say it is TCP.
            # https://github.com/Kludex/uvicorn/issues/3149 (open in uvicorn 0.54)
            sock = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
            Multiprocess(config, sockets=[sock]).run()
    except Terminated:
        # uvicorn stopped gracefully on SIGTERM, then raised it again for alops's handler: a normal stop.
        pass
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise ToolError(
                f"uvicorn could not serve on {host}:{port} (its log above says why): free the port or pick another"
            ) from None
