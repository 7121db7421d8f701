"""One request model per operation, with one set of limits, shared by the API and the CLI.

The API takes these as request bodies (their bounds become the OpenAPI schema and 422s); the CLI
builds the same models from its options (a bound broken there is a one-line exit 2); the
pipeline consumes them. The account tiers come from the screening policy, which gives them
meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from screening.policy import TIERS

if TYPE_CHECKING:
    from service.generator import GenerationRequest

#: the longest prompt accepted for screening or generation (characters)
MAX_PROMPT = 10_000


@dataclass(frozen=True)
class Limits:
    """The bounds of one generation, in time and memory: the request model's, and the
    reference generation core's own check (:meth:`GenerationRequest.validate`)."""

    min_duration_s: float = 0.5
    max_duration_s: float = 600.0
    min_side: int = 64
    max_width: int = 1920
    max_height: int = 1080
    max_fps: int = 60


LIMITS = Limits()


def _tier(value: str) -> str:
    if value not in TIERS:
        raise ValueError(f"unknown tier {value!r}; choose {', '.join(TIERS)}")
    return value


Tier = Annotated[
    str, AfterValidator(_tier), WithJsonSchema({"type": "string", "enum": list(TIERS)})
]


class ScreenRequest(BaseModel):
    """Screen a prompt for voice impersonation."""

    prompt: str = Field(max_length=MAX_PROMPT * 4)
    tier: Tier = "free"
    user_id: str | None = Field(None, max_length=128)


class GenerateRequest(BaseModel):
    """Screen, generate, watermark, fingerprint and register one piece of media.

    The bounds are :data:`LIMITS`.
    """

    model_config = ConfigDict(frozen=True)

    prompt: str = Field(min_length=1, max_length=MAX_PROMPT)
    kind: Literal["video", "audio"] = "video"
    tier: Tier = "free"
    duration_s: float = Field(10.0, ge=LIMITS.min_duration_s, le=LIMITS.max_duration_s)
    width: int = Field(640, ge=LIMITS.min_side, le=LIMITS.max_width)
    height: int = Field(360, ge=LIMITS.min_side, le=LIMITS.max_height)
    fps: int = Field(30, ge=1, le=LIMITS.max_fps)
    preset_id: str | None = Field(None, max_length=128)
    seed: int | None = Field(None, ge=0, le=2**32 - 1)
    audio_format: Literal["flac", "wav"] = "flac"
    user_id: str | None = Field(
        None,
        max_length=128,
        description="Whose generation this is. API: admin keys only (default: the calling key).",
    )

    @model_validator(mode="after")
    def _even(self) -> GenerateRequest:
        if self.width % 2 or self.height % 2:
            raise ValueError("video width and height must be even")
        return self

    def core_request(self) -> GenerationRequest:
        """What the generation core is asked for."""
        from service.generator import GenerationRequest

        return GenerationRequest(
            prompt=self.prompt,
            kind=self.kind,
            duration_s=self.duration_s,
            width=self.width,
            height=self.height,
            fps=self.fps,
            seed=self.seed,
            preset_id=self.preset_id,
        )


def first_error(exc: Any) -> str:
    """One line for a pydantic ``ValidationError`` (the CLI's exit-2 message)."""
    errors = exc.errors()
    if not errors:
        return str(exc)
    e = errors[0]
    loc = ".".join(str(p) for p in e.get("loc", ()))
    msg = str(e.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg
