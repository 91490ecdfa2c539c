"""Log formats: uvicorn's text lines (the default) or one JSON object per line (CHATKEEP_LOG_FORMAT=json).

Each record is stamped with the request's id, organisation and trace id where there is one. The JSON
format writes a fixed set of fields and nothing else, so values that callers attach to records
(`extra=…`) reach the log only when they are on that list: message content cannot ride along by
accident. What chatkeep's own messages say is kept free of content and secrets where they are written
(see log_privacy).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from chatkeep.observability import request_context, tracing

# Attributes a record may carry into the JSON line, besides time, level, logger and message.
JSON_FIELDS = (
    "request_id",
    "org",
    "trace_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "client",
)


class RequestFactsFilter(logging.Filter):
    """Stamps each record with the current request's id, organisation, client and trace id (or None)."""

    def filter(self, record: logging.LogRecord) -> bool:
        facts = request_context.current()
        record.request_id = facts.request_id if facts else None
        record.org = facts.org_name if facts else None
        record.client = facts.client_address if facts else None
        record.trace_id = tracing.current_trace_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: `time`, `level`, `logger`, `message`, the JSON_FIELDS it has, and
    `exception` (the traceback) when one was logged."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in JSON_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def uvicorn_log_config(*, json_format: bool, level: str) -> dict[str, Any]:
    """The `logging.config.dictConfig` schema for uvicorn and chatkeep's loggers, in the chosen format.

    In JSON mode uvicorn's access log is replaced by chatkeep's (`chatkeep.access`), which names the
    route template, organisation and duration instead of the raw request line.
    """
    text = "%(asctime)s %(levelname)s %(name)s [request_id=%(request_id)s trace_id=%(trace_id)s] %(message)s"
    formatter: dict[str, Any] = {"()": JsonFormatter} if json_format else {"format": text}
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "chatkeep",
        "filters": ["request_facts"],
    }
    loud = level.upper() if level.lower() != "trace" else "DEBUG"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_facts": {"()": RequestFactsFilter}},
        "formatters": {"chatkeep": formatter},
        "handlers": {"chatkeep": handler},
        "loggers": {
            "uvicorn": {"handlers": ["chatkeep"], "level": loud, "propagate": False},
            "uvicorn.access": {"handlers": ["chatkeep"], "level": loud, "propagate": False},
            "chatkeep": {"handlers": ["chatkeep"], "level": loud, "propagate": False},
        },
        "root": {"handlers": ["chatkeep"], "level": "WARNING"},
    }
