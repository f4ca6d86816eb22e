"""Channels: web chat, officer console and Telegram (issue 5)."""
