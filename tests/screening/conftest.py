"""Fixtures of the screening tests: one screener built once per session."""

from __future__ import annotations

import datetime as dt

import pytest

from screening import ConsentRegistry, IdentityRegistry, Policy, Screener


@pytest.fixture(scope="session")
def screener() -> Screener:
    """The shipped screener with a fixed date, so consent expiry is deterministic."""
    return Screener(
        IdentityRegistry.default(),
        ConsentRegistry.default(),
        Policy.default(),
        today=dt.date(2026, 11, 21),
    )


@pytest.fixture(scope="session")
def registry(screener: Screener) -> IdentityRegistry:
    """The shipped identity registry."""
    return screener.registry
