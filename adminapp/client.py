"""Where a request came from, as recorded on sessions and audit entries."""

from __future__ import annotations

from dataclasses import dataclass

# Genuine User-Agents are a few hundred bytes. Every stored one is cut here,
# on the one path into storage, so a hostile header cannot bloat records.
MAX_USER_AGENT = 512


@dataclass(frozen=True)
class Client:
    """Where a request came from, as recorded on sessions and audit entries."""

    ip: str
    user_agent: str
    # The request's id (adminapp/web/context.py request_id): an access record
    # and the log lines of the request that made it share it.
    request_id: str | None = None

    def __post_init__(self) -> None:
        # Frozen: set once, here, so no caller can store a longer one.
        object.__setattr__(self, "user_agent", (self.user_agent or "")[:MAX_USER_AGENT])
