"""Conversation engine: safety, handoff, answer composition and persistence."""
