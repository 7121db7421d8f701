"""Crash recovery under ``kill -9``: a real ``provkit serve`` killed while it writes, restarted,
and checked for leftovers.

Two kinds of kill, on SQLite and on PostgreSQL, with certificates anchored on a local anvil node
(a chain that outlives the server; ``scripts/ensure_anvil.sh``):

* **at a write boundary**: the server runs with ``PROVKIT_CRASH_AT=<boundary>`` and kills itself
  (SIGKILL) there, during a generate, mint or anchor request (:data:`BOUNDARIES`);
* **at a random moment**: generate, verify-as-a-job (spooled upload), mint and anchor requests
  in flight on two workers, the whole process group SIGKILLed after a random delay.

After each kill the server is started again (its startup recovery runs before it serves) and the
store is checked (:func:`check`): no pending record, no orphan media, work directory or spooled
upload, no frame hashes without a record, no unfinished job, no closed batch left unanchored, and
every complete record's media files still there with their recorded SHA-256.

    python -m bench.crash_recovery [--per-boundary 10] [--random 20] [--backends sqlite,postgres]

Writes ``bench/results/recovery.md``. Only talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import wave
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench._report import write_section

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "service.cli"]
#: every write boundary marked with ``crash_point`` in generate, mint and anchor, in write order
BOUNDARIES = (
    "generate.work",
    "generate.files",
    "generate.pending",
    "generate.indexed",
    "generate.thumbnail",
    "generate.renamed",
    "generate.complete",
    "mint.signed",
    "certificate.queued",
    "batch.closed",
    "anchor.claimed",
    "anchor.sent",
)
CLIP = {"prompt": "a quiet chime", "kind": "video", "duration_s": 2.5, "width": 128, "height": 96,
        "fps": 5}  # fmt: skip
ACTIONS = [
    {"id": "a1", "kind": "selection", "at": "2026-01-01T10:05:00Z",
     "details": {"chosen": ["take-2"], "rejected": ["take-1", "take-3"]}},
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the chain --------------------------------------------------------------------------------


def anvil_binary() -> str | None:
    """The anvil binary (installed into .tools/ by scripts/ensure_anvil.sh), or None."""
    if shutil.which("npm") is None and not (ROOT / ".tools" / "anvil").is_dir():
        return None
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure_anvil.sh")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc.stdout.strip().splitlines()[-1] if proc.returncode == 0 else None


@contextmanager
def anvil(binary: str) -> Iterator[str]:
    """A local anvil node; yields its JSON-RPC URL."""
    port = free_port()
    node = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", str(port), "--accounts", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        for _ in range(100):
            try:
                httpx.post(url, json=body, timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("anvil did not answer within 10 s")
        yield url
    finally:
        node.terminate()
        node.wait(timeout=10)


# -- the server -------------------------------------------------------------------------------


@dataclass
class Store:
    """One store (SQLite under ``data_dir``, or a PostgreSQL URL) and the chain it anchors on."""

    data_dir: Path
    chain_url: str
    db_url: str | None = None
    key: str | None = None

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("PROVKIT_") or k == "PROVKIT_ACCEL"
        }
        env.update(
            PROVKIT_DATA_DIR=str(self.data_dir),
            PROVKIT_LOG_LEVEL="ERROR",
            PROVKIT_CHAIN_RPC_URL=self.chain_url,
            PROVKIT_SYNC_VERIFY_MAX_S="0",  # every verify is a job: uploads and jobs in flight
            PYTHONPATH=str(ROOT),
            **extra,
        )
        if self.db_url:
            env["PROVKIT_DATABASE_URL"] = self.db_url
        return env

    def settings(self) -> Any:
        from service.settings import Settings

        return Settings(
            data_dir=self.data_dir, database_url=self.db_url, chain_rpc_url=self.chain_url
        )


class Server:
    """``provkit serve`` in its own process group (so SIGKILL reaches every worker)."""

    def __init__(self, store: Store, *, crash_at: str | None = None, workers: int = 1) -> None:
        self.port = free_port()
        extra = {"PROVKIT_PORT": str(self.port), "PROVKIT_WORKERS": str(workers)}
        if crash_at:
            extra["PROVKIT_CRASH_AT"] = crash_at
        self.env = store.env(**extra)
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0, tries: int = 3) -> Server:
        """Start and wait for /readyz; a start that fails is retried (``tries`` in all)."""
        for attempt in range(tries):
            try:
                return self._start(timeout)
            except RuntimeError:
                if attempt == tries - 1:
                    raise
                time.sleep(10)
        raise AssertionError("unreachable")

    def _start(self, timeout: float) -> Server:
        self.proc = subprocess.Popen(
            [*CLI, "serve"],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"server exited at startup: {err[-2000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("server did not become ready")

    def dead(self, timeout: float) -> bool:
        """Whether the server process is gone within ``timeout`` seconds."""
        assert self.proc is not None
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def kill(self) -> None:
        """SIGKILL the whole process group (supervisor and workers)."""
        assert self.proc is not None
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        if self.proc.stderr:
            self.proc.stderr.close()


def admin_key(store: Store) -> str:
    """An admin API key, created straight in the (migrated) store."""
    if store.key is None:
        from provenance.registry import make_engine
        from service.auth import KeyStore

        engine = make_engine(store.settings().db_url)
        store.key, _ = KeyStore(engine).create(["admin"], "crash-bench")
        engine.dispose()
    return store.key


# -- requests -----------------------------------------------------------------------------------


def _post(url: str, key: str, path: str, **kw: Any) -> httpx.Response | None:
    """A request that may die with the server: None when the connection broke."""
    try:
        return httpx.post(url + path, headers={"X-API-Key": key}, timeout=120, **kw)
    except httpx.HTTPError:
        return None


def generate(url: str, key: str) -> str | None:
    """Generate a small clip; its mark id, or None."""
    r = _post(url, key, "/v1/generate", json=CLIP)
    return r.json()["mark_id"] if r is not None and r.status_code == 201 else None


def mint(url: str, key: str, mark: str) -> httpx.Response | None:
    return _post(url, key, "/v1/certificates", json={"mark_id": mark, "actions": ACTIONS})


def anchor(url: str, key: str) -> httpx.Response | None:
    return _post(url, key, "/v1/certificates/anchor")


def _wav(seconds: float = 1.0, rate: int = 16_000) -> bytes:
    noise = (np.random.default_rng().standard_normal(int(seconds * rate)) * 3000).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(noise.tobytes())
    return buf.getvalue()


def verify_job(url: str, key: str) -> httpx.Response | None:
    return _post(url, key, "/v1/verify", files={"file": ("x.wav", _wav(), "audio/wav")})


def trigger(boundary: str, url: str, key: str) -> None:
    """The requests that reach ``boundary`` (the last one kills the server)."""
    if boundary.startswith("generate."):
        generate(url, key)
        return
    mark = generate(url, key)
    assert mark is not None, "generation failed before the crash point"
    r = mint(url, key, mark)
    if boundary in ("mint.signed", "certificate.queued"):
        return
    assert r is not None and r.status_code == 201, r.text if r is not None else "no reply"
    anchor(url, key)


def storm(url: str, key: str, marks: list[str], seconds: float) -> None:
    """Generate, verify, mint and anchor requests in flight, for ``seconds`` (or until the server
    dies)."""
    end = time.monotonic() + seconds
    rng = random.Random()

    def worker(i: int) -> None:
        while time.monotonic() < end:
            pick = rng.random()
            if pick < 0.45 or not marks:
                m = generate(url, key)
                if m is None:
                    return
                marks.append(m)
            elif pick < 0.7:
                if verify_job(url, key) is None:
                    return
            elif pick < 0.9:
                if mint(url, key, rng.choice(marks)) is None:
                    return
            elif anchor(url, key) is None:
                return

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, end - time.monotonic()) + 0.1)


# -- the check ----------------------------------------------------------------------------------


def check(store: Store) -> list[str]:
    """Everything a crash left that recovery should have cleared (empty when all is well), and
    any complete record whose media files are missing or changed."""
    from sqlalchemy import select

    from provenance.registry import Generation
    from service.context import Services
    from service.recovery import iter_leftovers

    svc = Services(store.settings())
    try:
        problems = list(iter_leftovers(svc))
        with svc.registry.sessions() as s:
            for gen in s.scalars(select(Generation).where(Generation.status == "complete")):
                for m in gen.media:
                    p = svc.settings.media_dir / gen.mark_hex / m.name
                    if not p.is_file():
                        problems.append(f"complete generation {gen.mark_hex} lost {m.name}")
                    elif hashlib.sha256(p.read_bytes()).hexdigest() != m.sha256:
                        problems.append(f"complete generation {gen.mark_hex}: {m.name} changed")
    finally:
        svc.engine.dispose()
    return problems


# -- runs ---------------------------------------------------------------------------------------


def interleaved(boundaries: tuple[str, ...] = BOUNDARIES) -> list[str]:
    """The boundaries in an order where a certificate boundary is always followed by a generate
    one: a restart after a kill at ``batch.closed`` or ``anchor.*`` anchors in its startup
    recovery, and must not itself be the server set to die while anchoring."""
    gen = [b for b in boundaries if b.startswith("generate.")]
    cert = [b for b in boundaries if not b.startswith("generate.")]
    out: list[str] = []
    for i, g in enumerate(gen):
        out.append(g)
        if i < len(cert):
            out.append(cert[i])
    return out + cert[len(gen) :]


@dataclass
class Tally:
    """Kills made, and what each restart found left behind (nothing, when recovery works)."""

    kills: dict[str, int] = field(default_factory=dict)
    dirty: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0
    #: the last kill, checked after the next restart
    last: str | None = None

    def settle(self, store: Store) -> None:
        """Check the store for the last kill's leftovers (a server has restarted since)."""
        if self.last is None:
            return
        problems = check(store)
        self.kills[self.last] = self.kills.get(self.last, 0) + 1
        if problems:
            self.dirty.setdefault(self.last, []).extend(problems)
        self.last = None


def run_boundaries(store: Store, boundaries: list[str], tally: Tally) -> None:
    """One kill at each boundary in turn; each restart's startup recovery clears the previous
    kill's leftovers before the store is checked and the next kill made."""
    t0 = time.monotonic()
    for b in boundaries:
        srv = Server(store, crash_at=b).start()
        tally.settle(store)
        trigger(b, srv.url, admin_key(store))
        died = srv.dead(60)
        srv.kill()
        if not died:
            raise AssertionError(f"the server did not die at {b}")
        tally.last = b
    finish(store, tally)
    tally.seconds += time.monotonic() - t0


def finish(store: Store, tally: Tally) -> None:
    """Start a clean server (startup recovery) and check after the last kill."""
    if tally.last is not None:
        Server(store).start().kill()
        tally.settle(store)


def run_random(store: Store, kills: int, tally: Tally, workers: int = 2) -> None:
    """``kills`` SIGKILLs of a ``workers``-worker server at random moments under mixed load."""
    t0 = time.monotonic()
    marks: list[str] = []
    rng = random.Random()
    for _ in range(kills):
        srv = Server(store, workers=workers).start()
        tally.settle(store)
        key = admin_key(store)
        delay = rng.uniform(0.3, 3.0)
        t = threading.Thread(target=storm, args=(srv.url, key, marks, delay + 5), daemon=True)
        t.start()
        time.sleep(delay)
        srv.kill()
        t.join(timeout=30)
        tally.last = "random"
    finish(store, tally)
    tally.seconds += time.monotonic() - t0


# -- the bench ----------------------------------------------------------------------------------


@contextmanager
def postgres_db() -> Iterator[str]:
    """A fresh PostgreSQL database on 127.0.0.1 (trust auth), dropped afterwards."""
    import psycopg

    name = f"provkit_crash_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True
    ) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(
            host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True
        ) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-boundary", type=int, default=10)
    ap.add_argument("--random", type=int, default=20)
    ap.add_argument("--backends", default="sqlite,postgres")
    args = ap.parse_args()
    binary = anvil_binary()
    if binary is None:
        sys.exit("anvil is unavailable (scripts/ensure_anvil.sh failed): nothing measured")
    import tempfile

    rows = []
    with anvil(binary) as chain_url:
        for backend in args.backends.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                db = postgres_db() if backend == "postgres" else _sqlite()
                with db as db_url:
                    store = Store(Path(tmp) / "var", chain_url, db_url or None)
                    at = Tally()
                    run_boundaries(store, interleaved() * args.per_boundary, at)
                    rnd = Tally()
                    run_random(store, args.random, rnd)
                    rows.append((backend, at, rnd))
                    print(backend, at.kills, rnd.kills, at.dirty, rnd.dirty, flush=True)
                    _write(rows)


def _write(rows: list[tuple[str, Tally, Tally]]) -> None:
    lines = [
        "Each kill is followed by a restart (startup recovery) and a check of the store: pending "
        "records, orphan media, `.work-*` directories, spooled uploads, frame hashes without a "
        "record, unfinished jobs, closed batches not anchored, complete records' media files "
        "(present, same SHA-256). Anchoring on a local anvil node.",
        "",
        "| backend | kill | kills | leftovers found after restart | seconds |",
        "|---|---|---:|---:|---:|",
    ]
    for backend, at, rnd in rows:
        for b in BOUNDARIES:
            lines.append(
                f"| {backend} | at `{b}` | {at.kills.get(b, 0)} | {len(at.dirty.get(b, []))} | |"
            )
        lines.append(f"| {backend} | all boundaries | {sum(at.kills.values())} | "
                     f"{sum(len(v) for v in at.dirty.values())} | {at.seconds:.0f} |")  # fmt: skip
        lines.append(f"| {backend} | random moment, 2 workers | {sum(rnd.kills.values())} | "
                     f"{sum(len(v) for v in rnd.dirty.values())} | {rnd.seconds:.0f} |")  # fmt: skip
    problems = [p for _, at, rnd in rows for t in (at, rnd) for v in t.dirty.values() for p in v]
    if problems:
        lines += ["", "Leftovers found:", "", *[f"- {p}" for p in problems[:20]]]
    cmd = "python -m bench.crash_recovery " + " ".join(sys.argv[1:])
    print(write_section("recovery", "Crash recovery (kill -9)", cmd.strip(), "\n".join(lines)))


@contextmanager
def _sqlite() -> Iterator[str]:
    yield ""


if __name__ == "__main__":
    main()
