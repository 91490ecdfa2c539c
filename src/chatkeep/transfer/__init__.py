"""Moving an organisation's data in and out of chatkeep as JSON Lines (`chatkeep export` / `chatkeep import`).

The file is one JSON object per line, each with a `record` field naming what it holds:

    {"record": "chatkeep-export", "version": 1, "org": {...}, "since": ..., "exported_at": ...}   first line
    {"record": "conversation", ...its columns...}
    {"record": "message", ...}            every version of every message: edits and regenerations are
                                          siblings under `parent_id`; the guard verdict is on the row
    {"record": "chat_session", ...}       the per-user containers
    {"record": "usage", ...}              the usage ledger

A conversation's line comes before its messages. Columns are written under their database names; UUIDs
as strings, timestamps as ISO 8601 in UTC. API tokens are never exported.
"""
