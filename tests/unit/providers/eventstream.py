"""AWS event-stream messages, encoded as Bedrock sends them, for the real botocore parser to read.

botocore's Stubber validates a stubbed response against the output shape, and ConverseStream's
`stream` member must then be a dict, so it cannot stand in for an EventStream. Instead the tests
answer at the HTTP layer (a `before-send` hook) with these bytes, and botocore parses them exactly as
it parses Bedrock's: headers, CRCs, event types, and exception events.
"""

from __future__ import annotations

import json
import struct
import threading
from binascii import crc32
from collections.abc import Iterator
from typing import Any


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return struct.pack("!B", len(raw_name)) + raw_name + struct.pack("!BH", 7, len(raw_value)) + raw_value


def message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude, prelude CRC, headers, payload, message CRC."""
    encoded = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    prelude += struct.pack("!I", crc32(prelude) & 0xFFFFFFFF)
    body = prelude + encoded + payload
    return body + struct.pack("!I", crc32(body) & 0xFFFFFFFF)


def event(event_type: str, body: dict[str, Any]) -> bytes:
    headers = {":message-type": "event", ":event-type": event_type, ":content-type": "application/json"}
    return message(headers, json.dumps(body).encode())


def exception(exception_type: str, text: str) -> bytes:
    headers = {
        ":message-type": "exception",
        ":exception-type": exception_type,
        ":content-type": "application/json",
    }
    return message(headers, json.dumps({"message": text}).encode())


class RawStream:
    """Stands in for urllib3's response: `stream()` yields the messages; `hang_after` blocks until close."""

    def __init__(self, messages: list[bytes], hang_after: int | None = None) -> None:
        self.messages = messages
        self.hang_after = hang_after
        self.closed = threading.Event()

    def stream(self, *args: object, **kwargs: object) -> Iterator[bytes]:
        for i, chunk in enumerate(self.messages):
            if self.hang_after is not None and i == self.hang_after:
                self.closed.wait(10)  # like a socket read that only a close interrupts
                return
            yield chunk

    def close(self) -> None:
        self.closed.set()
