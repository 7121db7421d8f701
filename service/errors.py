"""The service's own errors (the parts keep theirs in their packages' ``errors.py``)."""

from __future__ import annotations

from typing import Any


class PipelineError(RuntimeError):
    """Generation failed after screening; nothing was registered or handed out."""


class ScreenedOut(Exception):
    """The screener refused the prompt (or sent it to review); nothing was generated."""

    def __init__(self, decision: dict[str, Any]) -> None:
        super().__init__(decision.get("action", "deny"))
        self.decision = decision
