"""Statements built and compiled once, run with named parameters on a driver connection or a session.

A turn runs a handful of statements, each of which cost more in SQLAlchemy's execution machinery (cache
key, execution context, result object, and for a session the ORM's execute) than in the database. A
`Prepared` statement is a Core statement compiled once per dialect: its SQL text, the order of its
positional parameters, and the bind and result processors of its columns' types, so running it is
building a tuple, one driver call and converting the rows. The values on both sides are those
SQLAlchemy would give: the processors are the types' own.

Parameters are `bindparam`s named in the statement; a literal compared in the statement keeps its value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

Processor = Callable[[Any], Any] | None
Row = tuple[Any, ...]


@dataclass(slots=True)
class Compiled:
    """One statement compiled for one dialect."""

    sql: str
    # (name, the value of a literal or _REQUIRED, bind processor) in positional order
    binds: tuple[tuple[str, Any, Processor], ...]
    dialect: Dialect
    columns: tuple[Any, ...]  # the result columns' types; () without a result set
    # Made on the first rows: some drivers' processors depend on the type code the driver reports.
    results: tuple[Processor, ...] | None = None

    def arguments(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional parameters for the driver, processed as SQLAlchemy would."""
        values = []
        for name, literal, process in self.binds:
            value = params[name] if literal is _REQUIRED else params.get(name, literal)
            values.append(value if process is None or value is None else process(value))
        return tuple(values)

    def rows(self, rows: Sequence[Sequence[Any]], type_codes: Sequence[Any] = ()) -> list[Row]:
        """Driver rows as tuples of Python values (`type_codes`: as the driver describes the columns)."""
        results = self.results
        if results is None:
            codes = list(type_codes) or [None] * len(self.columns)
            results = self.results = tuple(
                t.dialect_impl(self.dialect).result_processor(self.dialect, code)
                for t, code in zip(self.columns, codes, strict=True)
            )
        if not any(results):
            return [tuple(row) for row in rows]
        return [
            tuple(v if p is None or v is None else p(v) for v, p in zip(row, results, strict=True))
            for row in rows
        ]


_REQUIRED = object()


class Prepared:
    """A Core statement and its compiled forms, one per dialect (made on first use).

    `variants`: the statement as a dialect (by name) needs it written, where that differs (an INSERT …
    ON CONFLICT is built from each dialect's own `insert`); with the same parameters.
    """

    __slots__ = ("_compiled", "_variants", "statement")

    def __init__(self, statement: Executable, *, variants: Mapping[str, Executable] | None = None) -> None:
        self.statement = statement
        self._variants = dict(variants or {})
        self._compiled: dict[str, Compiled] = {}

    def for_dialect(self, name: str) -> Executable:
        """The statement as the dialect named `name` runs it."""
        return self._variants.get(name, self.statement)

    def compiled(self, dialect: Dialect) -> Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _compile(self.for_dialect(dialect.name), dialect)
        return found


def _compile(statement: Executable, dialect: Dialect) -> Compiled:
    compiled: Any = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    if compiled.positiontup is None:
        raise ValueError(f"{dialect.name} does not take positional parameters")
    binds = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.expanding or bind.callable is not None:
            raise ValueError(f"parameter {name!r}: expanding and callable parameters are not supported")
        literal = _REQUIRED if bind.required else bind.value
        binds.append((name, literal, bind.type.dialect_impl(dialect).bind_processor(dialect)))
    columns = tuple(c.type for c in getattr(statement, "exported_columns", None) or ())
    return Compiled(sql=compiled.string, binds=tuple(binds), dialect=dialect, columns=columns)


class Statements(Protocol):
    """Where prepared statements run: a `DirectTransaction`, or an ORM session's transaction (`on`)."""

    async def fetch(self, statement: Prepared, params: Mapping[str, Any] | None = None) -> list[Row]: ...

    async def first(self, statement: Prepared, params: Mapping[str, Any] | None = None) -> Row | None: ...

    async def run(self, statement: Prepared, params: Mapping[str, Any] | None = None) -> int: ...

    async def run_many(self, statement: Prepared, rows: Sequence[Mapping[str, Any]]) -> None: ...


class _OnSession:
    """Prepared statements in an ORM session's transaction, for the callers that hold one."""

    __slots__ = ("_session",)

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _statement(self, statement: Prepared) -> Executable:
        return statement.for_dialect(self._session.get_bind().dialect.name)

    async def fetch(self, statement: Prepared, params: Mapping[str, Any] | None = None) -> list[Row]:
        result = await self._session.execute(self._statement(statement), dict(params or {}))
        return [tuple(row) for row in result]

    async def first(self, statement: Prepared, params: Mapping[str, Any] | None = None) -> Row | None:
        rows = await self.fetch(statement, params)
        return rows[0] if rows else None

    async def run(self, statement: Prepared, params: Mapping[str, Any] | None = None) -> int:
        result = await self._session.execute(self._statement(statement), dict(params or {}))
        return int(getattr(result, "rowcount", 0) or 0)

    async def run_many(self, statement: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        await self._session.execute(self._statement(statement), [dict(r) for r in rows])


def on(where: AsyncSession | Statements) -> Statements:
    """Statements for `where`: a direct transaction as it is, a session through its transaction."""
    return _OnSession(where) if isinstance(where, AsyncSession) else where


class Loader:
    """Rows of a mapped class's table columns (in table order) as instances of it, outside any session:
    what the ORM's loading makes for a session, without its identity map, events and result machinery.
    The instances are transient: for reading, never to be added to a session."""

    __slots__ = ("_keys", "_new", "columns")

    def __init__(self, mapped: type[Any]) -> None:
        mapper = inspect(mapped)
        self.columns = tuple(mapper.local_table.columns)
        self._keys = tuple(mapper.get_property_by_column(c).key for c in self.columns)
        self._new = mapper.class_manager.new_instance

    def __call__(self, row: Sequence[Any]) -> Any:
        instance = self._new()
        instance.__dict__.update(zip(self._keys, row, strict=True))
        return instance
