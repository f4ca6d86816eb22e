"""``consular serve``: the chat API, citizen chat page and officer console (uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from consular.cli import _settings, app


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    proxy_headers: Annotated[
        bool, typer.Option(help="Trust X-Forwarded-* from a reverse proxy (HTTPS, client IP).")
    ] = False,
) -> None:
    """Serve http://HOST:PORT/ (chat) and /console (officers); /docs has the API."""
    import uvicorn

    from bot.redaction import install_log_redaction
    from channels.app import create_app

    install_log_redaction()
    typer.echo(f"Loading the assistant, then serving http://{host}:{port}/ and /console …")
    uvicorn.run(
        create_app(_settings()),
        host=host,
        port=port,
        proxy_headers=proxy_headers,
        forwarded_allow_ips="*" if proxy_headers else None,
        # Open event streams never end on their own; give them a short grace.
        timeout_graceful_shutdown=5,
    )
