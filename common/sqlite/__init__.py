"""Django's SQLite backend with fair writers (`ENGINE = "common.sqlite"`; clinic/settings.py
picks it for every SQLite DATABASE_URL).

SQLite has one writer at a time, and its busy handler is not fair: a connection that finds the
file locked sleeps (1, 2, 5, … then 100 ms) and tries again, and a writer that loops short
transactions takes the lock back within microseconds of each COMMIT. A sleeper that keeps
waking into a held lock fails with "database is locked" after the whole busy timeout while
the looping writer never notices. That is how a busy writer starved the web process's
sender. Here every writer of ours takes its turn first (`common.sqlite.turns`): in order
between the threads of a process, and through a gate between processes, so a waiting writer
is next and nobody can take the lock twice past it.
"""
