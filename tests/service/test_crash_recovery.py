"""``kill -9`` of a real ``provkit serve`` at every write boundary and at random moments, then a
restart: its startup recovery leaves no pending record, orphan file, orphan frame hash, stuck job
or unanchored batch, and loses nothing stored (bench/crash_recovery.py runs the larger counts).

Certificates anchor on a local anvil node, a chain that outlives the server; the tests are
skipped, loudly, only when anvil cannot be installed.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.crash_recovery import (
    BOUNDARIES,
    Store,
    Tally,
    anvil,
    anvil_binary,
    interleaved,
    run_boundaries,
    run_random,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chain_url() -> Iterator[str]:
    binary = anvil_binary()
    if binary is None:
        msg = "\n\n*** CRASH-RECOVERY TESTS SKIPPED: anvil is unavailable (scripts/ensure_anvil.sh) ***\n"
        warnings.warn(msg, stacklevel=1)
        print(msg)
        pytest.skip(msg.strip())
    with anvil(binary) as url:
        yield url


#: on PostgreSQL, one boundary of each stage (SQLite takes them all; the bench, more of each)
PG_BOUNDARIES = (
    "generate.pending",
    "generate.indexed",
    "generate.renamed",
    "certificate.queued",
    "anchor.claimed",
    "anchor.sent",
)


def _crash(store: Store, boundaries: tuple[str, ...], randoms: int) -> None:
    at, rnd = Tally(), Tally()
    run_boundaries(store, interleaved(boundaries), at)
    assert at.kills == dict.fromkeys(boundaries, 1)
    assert at.dirty == {}, at.dirty
    run_random(store, randoms, rnd)
    assert rnd.kills == {"random": randoms}
    assert rnd.dirty == {}, rnd.dirty


def test_crash_recovery_sqlite(chain_url: str, tmp_path: Path) -> None:
    _crash(Store(tmp_path / "var", chain_url), BOUNDARIES, 2)


@pytest.mark.postgres
def test_crash_recovery_postgres(chain_url: str, pg_url: str, tmp_path: Path) -> None:
    _crash(Store(tmp_path / "var", chain_url, pg_url), PG_BOUNDARIES, 1)
