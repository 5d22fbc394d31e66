"""``compliance keys status``: the restoration-log key ids and their ages, never key bytes.

It reads only the key folder (no table, no Spark), so it answers in a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jobs.secrets.keyring import Keyring


@dataclass(frozen=True)
class KeysStatus:
    """``compliance keys status``: key ids and ages, never key bytes."""

    today: date
    """The run date."""
    window_days: int
    """The restoration window."""
    keys: list[tuple[str, int]]
    """(key id, age in days), oldest first."""

    def text(self) -> str:
        """One line per key, marking those past the window."""
        lines = [
            f"restoration-log keys on {self.today} (window {self.window_days} days): {len(self.keys)}"
        ]
        for key_id, age in self.keys:
            mark = (
                "  PAST THE WINDOW: run 'compliance keys rotate'" if age >= self.window_days else ""
            )
            lines.append(f"  {key_id}  {age:>4} days{mark}")
        return "\n".join(lines)


def status(keyring: Keyring, window_days: int, today: date) -> KeysStatus:
    """Key ids and ages on ``today`` against the restoration window of ``window_days``."""
    return KeysStatus(today, window_days, [(s.key_id, s.age_days) for s in keyring.status(today)])
