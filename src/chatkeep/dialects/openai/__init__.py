"""The OpenAI dialect under `/v1`: models, chat completions, embeddings, conversations and responses.

Conversations are chatkeep conversations and responses are their assistant messages, so what an app
writes here is the same thing the Quant and Waldur APIs list, read and limit (ids: `ids.py`).
"""
