"""Load generators: ``wrk`` for plain HTTP, lean asyncio clients for SSE and WebSocket."""
