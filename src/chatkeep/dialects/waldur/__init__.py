"""The Waldur chat API dialect (`/api/chat-sessions/`, `/api/chat-threads/`, `/api/chat-messages/`).

Waldur's paths carry no organisation: the organisation is the token's own (`Authorization: Token <key>`,
the same API tokens as the Quant dialect). `admin` and `service` tokens are Waldur's privileged
staff/support; `member` tokens are regular users.

Decisions, where Waldur's behaviour is a defect or ambiguous (specs/waldur-chat.md §10, §11):
- **Detection fields** (`is_flagged`, `severity`, `injection_categories`, `pii_categories`,
  `action_taken`) are rendered only for privileged callers, as Waldur does: a member does not learn
  which detector fired and how hard, which would help them tune an attack. The 8.1.3 client has these
  keys optional. A thread's own `flags`/`is_flagged`/`max_severity` stay visible to its owner (as in
  Waldur), so the `is_flagged` message filter is honoured for members too.
- **Archive/unarchive** is for the thread's owner only. Privileged callers, who can see other users'
  threads, get 403 on them; members get 404 for threads they cannot see.
- **`scope=own`** restricts the thread list to the caller's own threads for privileged callers too.
- **`message_count`** counts every stored user and assistant message, superseded versions too, as
  Waldur does (`Count("messages")`).
- **`replaces`** is derived from the message tree: a version replaces its previous sibling (same parent,
  same role, created earlier). Superseded messages (off the active path) appear only with
  `include_history=true`; an unparseable value does not turn history on.
- **User UUIDs**: chatkeep users are strings, so a user is shown as uuid5 of (organisation, user id),
  stored on their chat session; `user_username` and `user_full_name` both carry the user id.
- **Dates** in `created`/`modified` filters are UTC calendar days.
- Tokens in query strings (`x-auth-token`) are not accepted: URLs end up in logs.
"""
