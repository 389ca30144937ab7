"""A FastAPI app that hosts Motia steps next to its own routes.

The steps in ``steps/`` answer under ``/api`` (with their stream endpoints and
``/api/openapi.json``); the app's own routes stay where they are. Queues and
streams start and stop with the FastAPI app's lifespan.

    uvicorn main:app --port 8000
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request

from motia import Motia

HERE = Path(__file__).resolve().parent


def create_app(store: str = "sqlite") -> FastAPI:
    """The FastAPI app; ``store="memory"`` keeps nothing between runs (tests use it)."""
    motia = Motia("steps", project_dir=HERE, store=store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        yield {"motia": motia}  # anything the app sets up for itself goes here too

    app = FastAPI(title="Todos", lifespan=lifespan)

    @app.get("/health")
    async def health(request: Request) -> dict[str, Any]:
        return {"status": "ok", "steps": len(request.state.motia.registry.steps)}

    @app.get("/stats")
    async def stats(request: Request) -> dict[str, Any]:
        counted = await request.state.motia.runtime.state.get("stats", "todos")
        return {"created": (counted or {}).get("created", 0)}

    motia.mount(app, prefix="/api")
    return app


app = create_app()
