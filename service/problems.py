"""RFC 9457 problem details (``application/problem+json``) for every error the API returns."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class ProblemDetails(BaseModel):
    """An error, as every route answers one (RFC 9457 ``application/problem+json``)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Forbidden",
                    "status": 403,
                    "detail": "this API key lacks the 'screen' scope",
                    "instance": "/v1/screen",
                }
            ]
        },
    )

    type: str = Field("about:blank", description="A URI naming the kind of problem.")
    title: str = Field(description="Short summary of the kind of problem (per status).")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request, in one line.")
    instance: str | None = Field(None, description="The request path.")
    errors: list[dict[str, Any]] | None = Field(
        None, description="422 on a malformed request: each field's location and message."
    )


#: The problems documented on every route that can give them, by status, with an example detail.
_DOCUMENTED: dict[int, str] = {
    400: "There was an error parsing the body",
    401: "missing API key",
    403: "this API key lacks the 'verify' scope",
    408: "the request body did not arrive in time",
    413: "request body exceeds the 67108864-byte limit",
    422: "body.prompt: Field required",
}


def problem_doc(status: int, detail: str, **extra: Any) -> dict[str, Any]:
    """An OpenAPI response object: ``status`` as problem+json, with ``detail`` (and any extra
    members) as its example. Routes list their own problems with it."""
    example: dict[str, Any] = {
        "type": extra.pop("type", "about:blank"),
        "title": extra.pop("title", _TITLES.get(status, "Error")),
        "status": status,
        "detail": detail,
        **extra,
    }
    return {
        "description": _TITLES.get(status, "Error"),
        "content": {
            PROBLEM_TYPE: {
                "schema": {"$ref": "#/components/schemas/ProblemDetails"},
                "example": example,
            }
        },
    }


def _problem_response(status: int) -> dict[str, Any]:
    return problem_doc(status, _DOCUMENTED.get(status, ""))


def openapi_schema(
    app: FastAPI, examples: dict[str, list[dict[str, Any]]] | None = None
) -> dict[str, Any]:
    """The app's OpenAPI schema with every error as problem+json: FastAPI's
    ``HTTPValidationError`` replaced, and 401/403 on routes that take an API key, 413 on routes
    that take a body, 422 on routes that take input; 400 on routes that take a JSON body (not
    JSON, or nested deeper than ``max_json_depth``) and on every ``/v1/`` route that takes a key (a
    key in the URL is refused); 408 on routes that take a body (it arrived too slowly).

    ``examples`` (component name → examples) are put back as written: FastAPI drops every null
    member from the document, which would leave examples missing required nullable fields."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["ProblemDetails"] = ProblemDetails.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    for name, docs in (examples or {}).items():
        if name in components:
            components[name]["examples"] = docs
    for path, path_item in schema.get("paths", {}).items():
        for op in path_item.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses: dict[str, Any] = op["responses"]
            takes_input = "422" in responses or "requestBody" in op or op.get("parameters")
            wanted = []
            body = op.get("requestBody", {}).get("content", {})
            if (path.startswith("/v1/") and op.get("security")) or "application/json" in body:
                wanted.append(400)
            if op.get("security"):
                wanted += [401, 403]
            if "requestBody" in op:
                wanted += [408, 413]
            if takes_input:
                wanted.append(422)
            for status in wanted:  # a route's own example of the same status is kept
                if PROBLEM_TYPE not in responses.get(str(status), {}).get("content", {}):
                    responses[str(status)] = _problem_response(status)
            for code, resp in responses.items():  # errors a route declares itself
                if code[:1] in "45" and PROBLEM_TYPE not in resp.get("content", {}):
                    doc = _problem_response(int(code)) if int(code) in _TITLES else None
                    if doc is not None:
                        resp["content"] = doc["content"]
    app.openapi_schema = schema
    return schema


class Problem(Exception):
    """Raise to answer with a problem+json body."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.type = type_
        self.headers = headers
        self.extra = extra


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_: str = "about:blank",
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def install(app: FastAPI, examples: dict[str, list[dict[str, Any]]] | None = None) -> None:
    """Route every error through problem+json, and document them so in the OpenAPI schema
    (with ``examples`` as :func:`openapi_schema` takes them)."""

    def _openapi() -> dict[str, Any]:
        return openapi_schema(app, examples)

    app.openapi = _openapi  # type: ignore[method-assign]

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.detail,
            title=exc.title,
            type_=exc.type,
            instance=request.url.path,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            exc.status_code,
            str(exc.detail),
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        loc = [str(p) for p in exc.errors()[0].get("loc", ())] if errors else []
        msg = str(exc.errors()[0].get("msg", "invalid request")) if errors else "invalid request"
        detail = f"{'.'.join(loc)}: {msg}" if loc else msg
        return problem_response(422, detail, instance=request.url.path, errors=errors)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        import logging

        logging.getLogger("provkit.service").exception(
            "unhandled error", extra={"path": request.url.path}
        )
        return problem_response(500, "internal error", instance=request.url.path)
