"""``python -m app``: the server, with the limits that hold without a proxy in front.

    python -m app                          # http://127.0.0.1:8000, one worker
    python -m app --host 0.0.0.0 --workers 2

Options may also come from the environment: ``HOST``, ``PORT`` and
``WEB_CONCURRENCY`` (workers; the Dockerfile and Kubernetes set it). What the
server enforces is in ``app/server.py`` and docs/DEPLOY.md.
"""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from app import server
from app.api import limits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", "1")),
        help="processes; one per core (default: $WEB_CONCURRENCY or 1)",
    )
    parser.add_argument("--no-access-log", action="store_true", help="log no line per request")
    args = parser.parse_args(argv)
    # Room for the connection limit (per worker), the listening socket and files.
    server.raise_open_files_limit(limits.MAX_CONNECTIONS + 256)
    settings = server.settings(args.host, args.port, max(args.workers, 1))
    if args.no_access_log:
        settings["access_log"] = False
    uvicorn.run("app.main:app", **settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
