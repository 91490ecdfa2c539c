"""chatkeep: a self-hosted, multi-tenant AI chat-session server."""

__version__ = "0.1.0"
