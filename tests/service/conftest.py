"""Fixtures for pipeline and API tests: a fresh Services on a SQLite store, short clips."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.registry.migrate import upgrade
from service.context import Services
from service.settings import Settings

SMALL = {"duration_s": 6.0, "width": 320, "height": 180, "fps": 15}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(data_dir=tmp_path / "var", sync_verify_max_s=60.0)
    s.data_dir.mkdir(parents=True)
    upgrade(s.db_url)
    return s


@pytest.fixture
def svc(settings: Settings) -> Iterator[Services]:
    services = Services(settings)
    yield services
    if "jobs" in services.__dict__:
        services.jobs.shutdown()
