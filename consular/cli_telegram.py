"""``consular telegram``: the Telegram bot by long polling, or registering its webhook."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer

from consular.cli import _fail, _settings, app
from consular.settings import Settings


def _configure_logging() -> None:
    from bot.redaction import install_log_redaction

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL, and Bot API URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    install_log_redaction()


async def _set_webhook(settings: Settings, url: str) -> None:
    from telegram import Bot, Update

    bot = Bot(
        settings.telegram_bot_token.get_secret_value(), base_url=settings.telegram_api_base_url
    )
    async with bot:
        await bot.set_webhook(
            url,
            secret_token=settings.telegram_webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
        )


@app.command("telegram")
def telegram_command(
    set_webhook: Annotated[
        str | None,
        typer.Option(
            help="Register this HTTPS URL (…/telegram/webhook) with Telegram and exit, "
            "instead of polling."
        ),
    ] = None,
) -> None:
    """Run the Telegram bot with long polling (one machine, no public URL needed)."""
    settings = _settings()
    if settings.telegram_bot_token is None:
        _fail("Telegram is not configured: set CONSULAR_TELEGRAM_BOT_TOKEN (from @BotFather).")
    _configure_logging()
    if set_webhook:
        if settings.telegram_webhook_secret is None:
            _fail("Webhook mode needs CONSULAR_TELEGRAM_WEBHOOK_SECRET (16+ random characters).")
        asyncio.run(_set_webhook(settings, set_webhook))
        typer.echo(f"Webhook set: Telegram now sends updates to {set_webhook}")
        return

    from telegram import Update

    from bot.assembly import build_assistant
    from channels.telegram import build_application

    application = build_application(settings, build_assistant(settings))
    typer.echo("Telegram bot running (long polling); Ctrl+C stops it.")
    # Polling removes any webhook first: Telegram allows only one way of delivery.
    application.run_polling(allowed_updates=Update.ALL_TYPES)
