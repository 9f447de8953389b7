"""The bare baseline of the Data API figure: a FastAPI app whose only route answers a fixed JSON body.

`python -m bench.bare --port N --body FILE` serves it as `carpulse serve` serves the API (uvicorn, the same
protocol, keep-alive and concurrency options, no access log), so a ratio against it prices our work per
call (middleware, key, quota, metering, data) and not the server or the client.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from fastapi import FastAPI, Response

BODY_VARIABLE = "CARPULSE_BENCH_BARE_BODY"


def create_bare_app(body: bytes) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/api/v1/vehicle/dynamic/{vin}")
    async def dynamic(vin: str) -> Response:
        return Response(content=body, media_type="application/json")

    return app


def bare_app() -> FastAPI:
    """uvicorn's factory: the body is read from the file the environment names."""
    return create_bare_app(Path(os.environ[BODY_VARIABLE]).read_bytes())


def main() -> None:
    import uvicorn

    from carpulse.config import get_settings
    from carpulse.server import uvicorn_options

    parser = argparse.ArgumentParser(prog="python -m bench.bare")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", required=True, help="a file holding the JSON to answer")
    options = parser.parse_args()
    os.environ[BODY_VARIABLE] = options.body
    uvicorn.run(
        "bench.bare:bare_app",
        factory=True,
        host="127.0.0.1",
        port=options.port,
        proxy_headers=False,
        server_header=False,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        **uvicorn_options(get_settings().server),
    )


if __name__ == "__main__":
    main()
