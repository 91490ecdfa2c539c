"""Turns: one inference each, from the user's input to the stored answer and its usage row.

    turn = await engine.open(request)   # validate, guard, store the input and reserve the answer
    async for event in turn.events():   # TurnStarted, GuardNotice?, deltas, then TurnDone or TurnFailed
        ...
    await turn.aclose()                  # settle: answer, status and usage, however the turn ended

`open` raises domain errors before anything is streamed, so a dialect can still answer with its own
status; after that, failures arrive as a `TurnFailed` event. Closing is what settles a turn, and every turn
opened while serving a request is closed when the request ends (`scope.py`), so no dialect can leave one
in progress.

Modules: request (what a dialect asks for), engine (opening), input (guarding and placing the input),
history (what of the past a model sees), turn (running the model), settle (storing the outcome),
events (what a turn reports), scope (closing at the end of a request).
"""

from chatkeep.core.turns.engine import TurnEngine
from chatkeep.core.turns.events import GuardNotice, TurnDone, TurnEvent, TurnFailed, TurnStarted
from chatkeep.core.turns.request import TurnOptions, TurnRequest
from chatkeep.core.turns.scope import turn_scope
from chatkeep.core.turns.turn import Turn

__all__ = [
    "GuardNotice",
    "Turn",
    "TurnDone",
    "TurnEngine",
    "TurnEvent",
    "TurnFailed",
    "TurnOptions",
    "TurnRequest",
    "TurnStarted",
    "turn_scope",
]
