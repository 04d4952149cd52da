"""Last-known public keys: scans skip a key lookup, and signatures still verify while the
database is down. A key's status here may be stale; the scan path reads it fresh."""

from __future__ import annotations

import threading

from signing import KeyEntry, KeyRing


class KeyCache:
    """Thread-safe kid → :class:`KeyEntry` memory, fed by every successful key lookup."""

    def __init__(self) -> None:
        self._entries: dict[str, KeyEntry] = {}
        self._lock = threading.Lock()

    def get(self, kid: str) -> KeyEntry | None:
        with self._lock:
            return self._entries.get(kid)

    def remember(self, entry: KeyEntry) -> None:
        with self._lock:
            self._entries[entry.kid] = entry

    def remember_all(self, ring: KeyRing) -> None:
        with self._lock:
            self._entries.update({entry.kid: entry for entry in ring})

    def ring(self) -> KeyRing:
        with self._lock:
            return KeyRing(list(self._entries.values()))
