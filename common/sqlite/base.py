"""The backend: Django's SQLite wrapper whose writers take turns (see common/sqlite/turns.py).

A connection takes its turn before it writes outside a transaction (a lone INSERT, UPDATE,
DELETE, or the BEGIN IMMEDIATE that `atomic` sends) and holds it until SQLite says the
transaction is over: after COMMIT or ROLLBACK, after the lone statement, or when the connection
closes. Reads never wait. No turn within the busy timeout is SQLite's own error, "database is
locked", as it would have been without turns.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from django.db.backends.sqlite3 import base, creation

from common.sqlite import turns

# Statements that never write, or need no turn of their own (inside a transaction the turn is
# already held). Anything else starting outside a transaction takes a turn: an unknown
# statement waits its turn rather than jumping the queue.
_NO_TURN = ("SELECT", "PRAGMA", "EXPLAIN")


def _writes(query: str) -> bool:
    return not query.lstrip()[:7].upper().startswith(_NO_TURN)


class DatabaseCreation(creation.DatabaseCreation):
    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        super()._destroy_test_db(test_database_name, verbosity)  # type: ignore[misc]
        if not self.is_in_memory_db(test_database_name):
            turns.remove_files(test_database_name)


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    db: DatabaseWrapper

    def execute(self, query: str, params: Any = None) -> Any:
        self.db.take_turn_for(query)
        try:
            return super().execute(query, params)
        finally:
            self.db.end_turn_if_done()

    def executemany(self, query: str, param_list: Any) -> Any:
        self.db.take_turn_for(query)
        try:
            return super().executemany(query, param_list)
        finally:
            self.db.end_turn_if_done()


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turns: turns.WriteTurns | None = None

    def create_cursor(self, name: str | None = None) -> SQLiteCursorWrapper:
        cursor = self.connection.cursor(factory=SQLiteCursorWrapper)
        cursor.db = self
        return cursor

    def take_turn_for(self, query: str) -> None:
        if self._turns is not None or self.connection.in_transaction or not _writes(query):
            return
        name = self.settings_dict["NAME"]
        if self.is_in_memory_db():
            return
        waiting = turns.turns_for(str(name))
        try:
            waiting.acquire(timeout=float(self.settings_dict["OPTIONS"].get("timeout", 5.0)))
        except turns.TurnTimeout:
            raise sqlite3.OperationalError("database is locked") from None
        self._turns = waiting

    def end_turn_if_done(self) -> None:
        if self._turns is not None and not (
            self.connection is not None and self.connection.in_transaction
        ):
            held, self._turns = self._turns, None
            held.release()

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self.end_turn_if_done()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self.end_turn_if_done()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            # A closed connection's transaction is over, whatever it was.
            if self._turns is not None:
                held, self._turns = self._turns, None
                held.release()
