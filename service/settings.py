"""Service settings: ``PROVKIT_*`` environment variables, then an optional TOML file, then defaults.

The store is **found, not guessed**: the server and every CLI command, run from any folder, agree
on it. The data directory (store, keys, indexes, media) comes from, in order:

1. ``PROVKIT_DATA_DIR``;
2. ``data_dir`` in the TOML file — the one named by ``PROVKIT_CONFIG``, else the per-user
   ``$XDG_CONFIG_HOME/provkit/provkit.toml`` (``~/.config/provkit/provkit.toml``) when it exists;
3. the per-user data directory ``$XDG_DATA_HOME/provkit`` (``~/.local/share/provkit``).

The current folder plays no part (a relative ``data_dir`` is taken from the current folder only
when given explicitly). ``provkit info`` says which store a command uses and why. Secrets
(database passwords inside URLs, key material) are never printed: use :meth:`Settings.public`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def user_config_file() -> Path:
    """The per-user configuration file (read when it exists and ``PROVKIT_CONFIG`` is unset)."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "provkit" / "provkit.toml"


def user_data_dir() -> Path:
    """The per-user data directory, the last place the store is looked for."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "provkit"


def config_file() -> Path | None:
    """The TOML file settings are read from, if any (see the module docstring)."""
    name = os.environ.get("PROVKIT_CONFIG")
    if name:
        return Path(name)
    default = user_config_file()
    return default if default.exists() else None


class Settings(BaseSettings):
    """All provkit service settings."""

    model_config = SettingsConfigDict(env_prefix="PROVKIT_", extra="forbid")

    data_dir: Path = Field(
        default_factory=user_data_dir,
        description="Directory for the SQLite store, keys, indexes and media.",
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file data_dir/provkit.db."
    )
    host: str = Field("127.0.0.1", description="Address `provkit serve` binds.")
    port: int = Field(8000, ge=0, le=65535, description="Port `provkit serve` binds.")
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes.")
    max_body_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Largest accepted request body (bytes)."
    )
    max_json_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest accepted JSON request body (bytes)."
    )
    watermark_key_file: Path | None = Field(
        None, description="Watermark key file; default data_dir/keys/watermark.key."
    )
    signing_key_file: Path | None = Field(
        None, description="Certificate signing key; default data_dir/keys/signing.key."
    )
    log_level: str = Field("INFO", description="Log level (DEBUG, INFO, WARNING, ERROR).")
    generator: str = Field(
        "service.generator:ReferenceGenerator",
        description="Generation core as `module:attribute` (a Generator).",
    )
    chain_rpc_url: str | None = Field(
        None, description="Ethereum JSON-RPC URL for anchoring; default: embedded dev chain."
    )
    chain_key_file: Path | None = Field(
        None, description="Key file of the account that sends anchoring transactions."
    )
    eas_address: str | None = Field(
        None, description="EAS contract address: anchor with timestamp(bytes32) when set."
    )
    sync_verify_max_s: float = Field(
        120.0, ge=0, description="Uploads longer than this (seconds) are verified as a job (202)."
    )
    key_cache_ttl_s: float = Field(
        10.0,
        ge=0,
        le=3600,
        description="Seconds a worker trusts a verified API key before checking the store again.",
    )
    query_fps: float = Field(
        4.0,
        gt=0,
        le=30,
        description="Frames per second sampled from a video being verified or traced.",
    )
    fingerprint_backend: str = Field(
        "local",
        pattern="^(local|milvus)$",
        description="Engine that searches frame hashes: `local` (in each worker's memory, saved "
        "beside the store) or `milvus` (a Milvus collection shared by every worker).",
    )
    milvus_uri: str | None = Field(
        None,
        description="Milvus server URL (`http://host:19530`), or a local `.db` file for embedded "
        "milvus-lite; used when `fingerprint_backend` is `milvus`.",
    )
    heavy_concurrency: int = Field(
        1,
        ge=1,
        le=64,
        description="Media jobs of verification and fingerprinting (decode, detect, hash) run "
        "at once per worker process.",
    )
    generation_nice: int = Field(
        0,
        ge=0,
        le=19,
        description="Lower CPU priority of the threads that run generations (a Linux nice "
        "increment, 0-19): above 0, verification in the same worker keeps its latency while "
        "generations run, and generations take longer.",
    )
    index_warm_start: bool = Field(
        True,
        description="Open the fingerprint index when a worker starts, and read the shared "
        "index file into the page cache, in the background: the first search does not pay for "
        "either.",
    )
    generation_concurrency: int = Field(
        1,
        ge=1,
        le=64,
        description="Generations (generate, mark, fingerprint, register) run at once per worker "
        "process, in a lane of their own: a verification never queues behind a generation.",
    )
    max_media_duration_s: float = Field(
        3 * 3600.0, gt=0, description="Longest media decoded from one upload (seconds)."
    )
    max_media_pixels: int = Field(
        3840 * 2160, gt=0, description="Largest video frame decoded from an upload (pixels)."
    )
    max_json_depth: int = Field(
        64, ge=2, le=1000, description="Deepest nesting of arrays/objects in a JSON request body."
    )
    header_timeout_s: float = Field(
        10.0, gt=0, le=600, description="Seconds a client has to send a request's headers."
    )
    body_timeout_s: float = Field(
        300.0, gt=0, description="Seconds a client has to send a whole request body."
    )
    body_idle_timeout_s: float = Field(
        30.0, gt=0, description="Longest pause (seconds) between two pieces of a request body."
    )

    recovery_interval_s: float = Field(
        300.0,
        ge=0,
        description="Seconds between crash-recovery passes in each worker (0: at startup only).",
    )

    # Content Credentials (C2PA) and AI-content labels (docs/c2pa.md)
    c2pa_enabled: bool = Field(True, description="Sign a C2PA manifest into each generated file.")
    c2pa_cert_file: Path | None = Field(
        None,
        description="Operator's C2PA signing chain (PEM, leaf first); default: a development CA "
        "and signing certificate created in data_dir/keys/c2pa (valid but untrusted).",
    )
    c2pa_key_file: Path | None = Field(
        None, description="Private key (PEM) of `c2pa_cert_file`'s signing certificate."
    )
    c2pa_alg: str = Field(
        "ed25519",
        pattern="^(ed25519|es256)$",
        description="Key type of a development chain created on first use (ed25519 or es256).",
    )
    c2pa_trust_anchors_file: Path | None = Field(
        None,
        description="PEM trust anchors (e.g. the C2PA trust list): manifests whose chain ends in "
        "one read as trusted.",
    )
    aigc_label_enabled: bool = Field(
        True, description="Write the GB 45438 implicit AIGC label into each generated file."
    )
    aigc_content_producer: str = Field(
        "provkit",
        min_length=1,
        max_length=200,
        description="ContentProducer written in the AIGC label.",
    )
    label_key_file: Path | None = Field(
        None,
        description="Key of the AIGC label's ReservedCode1 MAC; default data_dir/keys/label.key.",
    )
    aigc_region: str = Field(
        "",
        pattern="^(|cn)$",
        description="Labelling rules to follow: `cn` (GB 45438-2025) turns the explicit labels on.",
    )
    aigc_explicit_audio: bool = Field(
        False, description="Lay the Morse 'AI' cue over the start of every generated track."
    )
    aigc_explicit_video: bool = Field(
        False, description="Show an on-screen 'AI' label for the first seconds of every video."
    )
    aigc_video_label_s: float = Field(
        2.0, ge=2.0, le=3600.0, description="Seconds the on-screen label is shown (at least 2)."
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        return v.expanduser().absolute()

    def data_dir_source(self) -> str:
        """Where :attr:`data_dir` came from: the environment, a config file, or the default."""
        if os.environ.get("PROVKIT_DATA_DIR"):
            return "PROVKIT_DATA_DIR"
        toml = config_file()
        if toml is not None and toml.is_file():
            import tomllib

            with toml.open("rb") as f:
                if "data_dir" in tomllib.load(f):
                    return f"data_dir in {toml}"
        if "data_dir" in self.model_fields_set:
            return "given explicitly"
        return "the per-user default"

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        v = v.upper()
        if v not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("log_level must be DEBUG, INFO, WARNING or ERROR")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = config_file()
        if toml is not None:
            if not toml.is_file():
                raise ValueError(f"config file {toml} does not exist")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    @property
    def db_url(self) -> str:
        """The effective database URL."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'provkit.db').as_posix()}"

    @property
    def watermark_key_path(self) -> Path:
        """Effective watermark key file."""
        return self.watermark_key_file or self.data_dir / "keys" / "watermark.key"

    @property
    def signing_key_path(self) -> Path:
        """Effective certificate signing key file."""
        return self.signing_key_file or self.data_dir / "keys" / "signing.key"

    @property
    def c2pa_dir(self) -> Path:
        """Where the development C2PA chain is created on first use."""
        return self.data_dir / "keys" / "c2pa"

    @property
    def label_key_path(self) -> Path:
        """Effective AIGC label key file."""
        return self.label_key_file or self.data_dir / "keys" / "label.key"

    @property
    def fingerprint_index_path(self) -> Path:
        """The fingerprint index file: a cache of the store's frame hashes, rebuilt when stale
        (one rule for the server and the CLI, whatever the database)."""
        return self.data_dir / "fingerprints.npz"

    @property
    def media_dir(self) -> Path:
        """Where generated media files are kept."""
        return self.data_dir / "media"

    @property
    def upload_dir(self) -> Path:
        """Where uploads are spooled while they are checked."""
        return self.data_dir / "uploads"

    def public(self) -> dict[str, Any]:
        """Settings safe to print or log: passwords inside URLs are masked."""
        out = self.model_dump(mode="json")
        out["database_url"] = redact_url(self.db_url)
        if out.get("milvus_uri"):
            out["milvus_uri"] = redact_url(str(out["milvus_uri"]))
        return out


def redact_url(url: str) -> str:
    """Mask the password of a ``scheme://user:password@host`` URL."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    if ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}://{creds}@{host}"
