"""Keeps message content out of the logs unless CHATKEEP_LOG_CONTENT is set.

chatkeep's own code never logs message text, prompts, answers, guard matches or token secrets. Some
libraries do when their DEBUG logging is switched on: SQLAlchemy logs result rows (message content read
back), aiosqlite every call with its SQL parameters, the Anthropic SDK its request options (the prompt),
botocore its request and response bodies.
Their DEBUG records are dropped here. SQL parameters, which carry message content on every insert and
also appear in database error messages, are hidden by the engine itself (`Database(hide_parameters=…)`).
"""

from __future__ import annotations

import logging

# Exact names: a logger's filters apply only to records created on that very logger, not its children.
PAYLOAD_LOGGERS = (
    "sqlalchemy.engine.Engine",
    "aiosqlite",
    "anthropic._base_client",
    "botocore.endpoint",
    "botocore.parsers",
)


class _DropDebugRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_DROP_DEBUG = _DropDebugRecords()


def keep_content_out_of_logs(*, allow_content: bool) -> None:
    """Drop the payload-carrying DEBUG records of PAYLOAD_LOGGERS, or (allow_content) let them through.

    Logging is process-wide, so the last app created decides.
    """
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        logger.removeFilter(_DROP_DEBUG)
        if not allow_content:
            logger.addFilter(_DROP_DEBUG)
