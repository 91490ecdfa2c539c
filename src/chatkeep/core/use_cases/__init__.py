"""Use cases: one function per thing a caller can do, each owning its whole transaction.

A dialect handler parses its wire format, calls one of these with the database handle and the caller,
and renders the result. Locking, screening, authorisation and limits happen here, so a new dialect cannot
forget a step. Turns (model calls) are the turn engine's (`core.turns`).
"""
