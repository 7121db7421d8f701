"""The composed services one process uses: store, registry, keys, and each part, built lazily
from :class:`~service.settings.Settings`. Key files are created (0600) on first use when absent.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from provenance.registry import Registry, make_engine
from service.auth import KeyStore
from service.generator import Generator, load_generator
from service.jobs import JobRunner
from service.media import MediaLimits
from service.metrics import Metrics, timed
from service.settings import Settings

log = logging.getLogger("provkit.index")
T = TypeVar("T")

if TYPE_CHECKING:
    from provenance.c2pa import ManifestReader, ManifestSigner, SigningChain
    from provenance.certificate import CertificateStore, Chain, Keyring, Signer
    from provenance.fingerprint import FingerprintIndex
    from screening import Screener
    from watermark import WatermarkKey


class Lane:
    """A bounded number of concurrent jobs (a context manager, like a semaphore); the time a
    request waits to enter counts as its ``name`` timing (``Server-Timing``)."""

    def __init__(self, name: str, slots: int) -> None:
        self.name = name
        self._slots = threading.BoundedSemaphore(slots)

    def __enter__(self) -> None:
        with timed(self.name):
            self._slots.acquire()

    def __exit__(self, *exc: object) -> None:
        self._slots.release()


class Services:
    """Everything the API, the CLI and the pipeline share inside one process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.db_url)
        self.registry = Registry(self.engine)
        self.keys = KeyStore(self.engine, cache_ttl=settings.key_cache_ttl_s)
        self.limits = MediaLimits(
            max_duration_s=settings.max_media_duration_s, max_pixels=settings.max_media_pixels
        )
        self.metrics = Metrics()
        #: bounds concurrent media work per process: queueing beats thrashing the cores
        self.heavy = Lane("queue", settings.heavy_concurrency)
        #: generations queue in a lane of their own, so a verification never waits for one
        self.generation = Lane("generation-queue", settings.generation_concurrency)
        #: serialises writes to the in-memory FAISS index and the chain client
        self.write_lock = threading.Lock()

    @cached_property
    def jobs(self) -> JobRunner:
        """Background jobs (long verifications)."""
        return JobRunner(self.engine)

    @cached_property
    def screener(self) -> Screener:
        """The prompt screener with the shipped registry and policy."""
        from screening import Screener

        return Screener.default()

    @cached_property
    def watermark_key(self) -> WatermarkKey:
        """The platform's watermark key (created on first use)."""
        from watermark import WatermarkKey

        path = self.settings.watermark_key_path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            WatermarkKey.generate().save(path)
        return WatermarkKey.load(path)

    @cached_property
    def fingerprints(self) -> FingerprintIndex:
        """The fingerprint index over the store. With the local backend, the index is one file
        beside ``settings.fingerprint_index_path`` (``fingerprints.map``) that every worker on the
        machine maps read-only, each keeping only its recent changes privately."""
        import faiss

        from provenance.fingerprint import FingerprintIndex
        from provenance.fingerprint.backend import open_backend

        # one thread per worker: parallelism comes from worker processes, not OpenMP
        faiss.omp_set_num_threads(1)
        s = self.settings
        backend = open_backend(s.fingerprint_backend, milvus_uri=s.milvus_uri)
        return FingerprintIndex(
            s.db_url,
            s.fingerprint_index_path,
            backend=backend,
            engine=self.engine,
            shared=backend is None,
        )

    @cached_property
    def generation_executor(self) -> ThreadPoolExecutor:
        """The threads generations run on (``generation_concurrency`` of them), each at
        ``generation_nice`` below the worker's CPU priority."""
        nice = self.settings.generation_nice

        def lower_priority() -> None:
            if nice and hasattr(os, "setpriority"):
                tid = threading.get_native_id()  # Linux: the nice value is per thread
                with suppress(OSError):
                    os.setpriority(
                        os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice)
                    )

        return ThreadPoolExecutor(
            self.settings.generation_concurrency,
            thread_name_prefix="provkit-generation",
            initializer=lower_priority,
        )

    def run_generation(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in the generation lane: wait for a slot (``generation-queue``),
        then run on a generation thread with the caller's request context."""
        with self.generation:
            ctx = contextvars.copy_context()
            return self.generation_executor.submit(ctx.run, fn, *args).result()

    def refresh_index(self) -> str:
        """Bring the fingerprint index up to date with the store before a search (see
        :meth:`~provenance.fingerprint.FingerprintIndex.refresh`); the time it takes is the
        request's ``index-sync`` timing and the ``provkit_index_sync_seconds`` histogram."""
        t0 = time.perf_counter()
        with timed("index-sync"):
            outcome = self.fingerprints.refresh()
        self.metrics.index_sync.labels(outcome).observe(time.perf_counter() - t0)
        return outcome

    def warm_index(self) -> None:
        """Open the fingerprint index and read its shared file's pages (a worker's start, in the
        background); on failure the first search opens it, as without a warm start."""
        try:
            self.refresh_index()
            self.fingerprints.warm()
        except Exception:  # the store or the file is unusable now: the request path reports it
            log.warning("fingerprint index warm start failed", exc_info=True)

    @cached_property
    def signer(self) -> Signer:
        """The certificate signing key (created on first use)."""
        from provenance.certificate import Signer

        path = self.settings.signing_key_path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            Signer.generate().save(path)
        return Signer.load(path)

    @cached_property
    def keyring(self) -> Keyring:
        """Trusted issuer keys: the current signing key (and any rotated ones kept beside it)."""
        from provenance.certificate import Keyring

        ring = Keyring()
        ring.add(self.signer.public_key)
        return ring

    @cached_property
    def certificates(self) -> CertificateStore:
        """Certificates and their anchoring batches."""
        from provenance.certificate import CertificateStore

        return CertificateStore(self.engine)

    @cached_property
    def chain(self) -> Chain:
        """The anchoring chain: a JSON-RPC endpoint when configured, else the development chain
        journaled in the store (one chain for every worker, kept across restarts)."""
        from provenance.certificate import Chain, DevChain

        s = self.settings
        if s.chain_rpc_url:
            return Chain.connect(
                s.chain_rpc_url, key_file=s.chain_key_file, eas_address=s.eas_address
            )
        return DevChain(self.engine)

    @cached_property
    def generator(self) -> Generator:
        """The generation core named in the settings."""
        return load_generator(self.settings.generator)

    @cached_property
    def c2pa_chain(self) -> SigningChain:
        """The C2PA signing chain: the operator's, else a development chain made on first use."""
        from provenance.c2pa import SigningChain, SigningChainError, dev_chain

        s = self.settings
        if s.c2pa_cert_file or s.c2pa_key_file:
            if not (s.c2pa_cert_file and s.c2pa_key_file):
                raise SigningChainError("set both c2pa_cert_file and c2pa_key_file")
            return SigningChain.load(s.c2pa_cert_file, s.c2pa_key_file)
        return dev_chain(s.c2pa_dir, "es256" if s.c2pa_alg == "es256" else "ed25519")

    @cached_property
    def manifest_signer(self) -> ManifestSigner:
        """Signs C2PA manifests with :attr:`c2pa_chain`."""
        from provenance.c2pa import ManifestSigner

        return ManifestSigner(self.c2pa_chain)

    @cached_property
    def manifest_reader(self) -> ManifestReader:
        """Reads C2PA manifests, trusting ``c2pa_trust_anchors_file`` when set."""
        from provenance.c2pa import ManifestReader

        anchors = self.settings.c2pa_trust_anchors_file
        return ManifestReader(anchors.read_text() if anchors else None)

    @cached_property
    def own_manifest_reader(self) -> ManifestReader:
        """Reads C2PA manifests trusting only the top of this service's own signing chain: a
        manifest reads ``trusted`` here only if this service's CA issued its signer."""
        from cryptography.hazmat.primitives.serialization import Encoding

        from provenance.c2pa import ManifestReader

        top = self.c2pa_chain.certificates[-1]
        return ManifestReader(top.public_bytes(Encoding.PEM).decode("ascii"))

    @cached_property
    def label_key(self) -> bytes:
        """The AIGC label's MAC key (32 random bytes, created 0600 on first use)."""
        import os
        import secrets

        path = self.settings.label_key_path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
            try:
                os.link(tmp, path)  # whole or absent: two processes agree on one key
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        key = path.read_bytes()
        if len(key) < 16:
            raise ValueError(f"the label key file {path.name} is too short")
        return key
