"""One error tree rendered as RFC 9457 `application/problem+json`.

Every error a client can cause is a `CarPulseError` subclass with a status, a `type` slug
(served as a description at `/problems/{slug}`) and a title. Framework errors (404, 405, 422)
and failures of our own dependencies are rendered in the same shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import structlog
from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_PATH = "/problems"

log = structlog.get_logger("carpulse.errors")


class CarPulseError(Exception):
    """Base of every error we answer with a problem document."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = extensions

    @classmethod
    def type_uri(cls) -> str:
        return f"{PROBLEM_PATH}/{cls.slug}"


class BadRequest(CarPulseError):
    """The request cannot be understood as sent."""

    status = 400
    slug = "bad-request"
    title = "Bad request"


class Unauthorized(CarPulseError):
    """Credentials are missing, wrong or expired."""

    status = 401
    slug = "unauthorized"
    title = "Not authenticated"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extensions)


class Forbidden(CarPulseError):
    """The caller is known but not allowed to do this."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(CarPulseError):
    """No such resource, or it belongs to someone else."""

    status = 404
    slug = "not-found"
    title = "Not found"


class MethodNotAllowed(CarPulseError):
    """The resource exists but does not answer this HTTP method."""

    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"


class Conflict(CarPulseError):
    """The request conflicts with the resource's current state."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class PayloadTooLarge(CarPulseError):
    """The request body is larger than this endpoint accepts."""

    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class ValidationFailed(CarPulseError):
    """The request is well-formed but its values are not acceptable; `errors` lists each one."""

    status = 422
    slug = "validation-failed"
    title = "Validation failed"


class RateLimited(CarPulseError):
    """Too many requests; retry after the number of seconds in `Retry-After`."""

    status = 429
    slug = "rate-limited"
    title = "Too many requests"


class DependencyUnavailable(CarPulseError):
    """A service we depend on (database, store, vendor) is down; retry later."""

    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"


class InternalError(CarPulseError):
    """An unexpected failure on our side; the request id identifies it in our logs."""


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["/problems/not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None


class FieldError(BaseModel):
    loc: list[str | int]
    message: str
    type: str


class ValidationProblem(Problem):
    errors: list[FieldError] = Field(default_factory=list)


def _all_error_classes() -> list[type[CarPulseError]]:
    seen: dict[str, type[CarPulseError]] = {}
    stack: list[type[CarPulseError]] = [CarPulseError]
    while stack:
        cls = stack.pop()
        seen.setdefault(cls.slug, cls)
        stack.extend(cls.__subclasses__())
    return list(seen.values())


def problem_catalogue() -> dict[str, type[CarPulseError]]:
    """Every problem type the API can answer with, by slug."""
    return {cls.slug: cls for cls in _all_error_classes()}


def problem_responses(*errors: type[CarPulseError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the errors an endpoint can answer with."""
    by_status: dict[int, list[type[CarPulseError]]] = {}
    for error in errors:
        by_status.setdefault(error.status, []).append(error)
    responses: dict[int | str, dict[str, Any]] = {}
    for status, classes in sorted(by_status.items()):
        model = ValidationProblem if status == 422 else Problem
        description = "; ".join(f"{cls.title} ({cls.type_uri()})" for cls in classes)
        responses[status] = {
            "model": model,
            "description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
        }
    return responses


def problem_response(
    request: Request | None,
    error_cls: type[CarPulseError],
    detail: str | None = None,
    *,
    status: int | None = None,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": error_cls.type_uri(),
        "title": title or error_cls.title,
        "status": status or error_cls.status,
    }
    if detail:
        body["detail"] = detail
    if request is not None:
        body["instance"] = request.url.path
    request_id = correlation_id.get()
    if request_id:
        body["request_id"] = request_id
    if extensions:
        body.update(extensions)
    return JSONResponse(
        body,
        status_code=body["status"],
        headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )


def render_error(request: Request | None, error: CarPulseError) -> JSONResponse:
    return problem_response(
        request,
        type(error),
        error.detail,
        headers=error.headers,
        extensions=error.extensions,
    )


def _field_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    # Never echo `input`: it can hold a password or a token.
    return [
        {
            "loc": list(error.get("loc", ())),
            "message": str(error.get("msg", "invalid value")),
            "type": str(error.get("type", "value_error")),
        }
        for error in errors
    ]


_STATUS_CLASSES: dict[int, type[CarPulseError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    413: PayloadTooLarge,
    422: ValidationFailed,
    429: RateLimited,
    503: DependencyUnavailable,
}


def _is_connection_failure(exc: Exception) -> bool:
    if isinstance(exc, OperationalError | PoolTimeoutError | OSError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


async def _on_carpulse_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CarPulseError)
    return render_error(request, exc)


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error_cls = _STATUS_CLASSES.get(exc.status_code, BadRequest if exc.status_code < 500 else InternalError)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != error_cls.title else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = None
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem_response(
        request,
        error_cls,
        detail,
        status=exc.status_code,
        headers=exc.headers,
    )


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc.errors())
    return problem_response(
        request,
        ValidationFailed,
        f"{len(errors)} invalid value(s) in the request",
        extensions={"errors": errors},
    )


def _is_unstorable_text(exc: Exception) -> bool:
    # PostgreSQL refuses NUL bytes and invalid code points in text; that is bad input, not our failure.
    text = str(getattr(exc, "orig", exc))
    return isinstance(exc, DBAPIError) and ("invalid byte sequence" in text or "0x00" in text)


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    if _is_unstorable_text(exc):
        return problem_response(request, ValidationFailed, "The request contains characters that cannot be stored.")
    if not _is_connection_failure(exc):
        raise exc
    log.warning("database.unavailable", error=type(exc).__name__, path=request.url.path)
    return problem_response(
        request,
        DependencyUnavailable,
        "The database is unavailable; retry in a moment.",
        headers={"Retry-After": "5"},
    )


async def _on_redis_error(request: Request, exc: Exception) -> JSONResponse:
    log.warning("redis.unavailable", error=type(exc).__name__, path=request.url.path)
    return problem_response(
        request,
        DependencyUnavailable,
        "A store this request needs is unavailable; retry in a moment.",
        headers={"Retry-After": "5"},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CarPulseError, _on_carpulse_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(PoolTimeoutError, _on_database_error)
    app.add_exception_handler(ConnectionError, _on_database_error)
    # Sessions, OAuth states and the job stream live in Redis; losing it is an outage, not a bug.
    app.add_exception_handler(RedisConnectionError, _on_redis_error)
    app.add_exception_handler(RedisTimeoutError, _on_redis_error)


def problem_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with every error response documented as our problem document.

    FastAPI documents its 422 as `HTTPValidationError`, gives each problem response an
    `application/json` twin we never send, and leaves out the 400 of an unreadable body and
    the 413 of `BodySizeLimitMiddleware`.
    """
    if app.openapi_schema:
        return app.openapi_schema

    def document(responses: dict[str, Any], error: type[CarPulseError], model: str, note: str = "") -> None:
        entry = f"{error.title} ({error.type_uri()}){note}"
        response = responses.get(str(error.status))
        if response is None or PROBLEM_MEDIA_TYPE not in response.get("content", {}):
            # Absent, or FastAPI's own (`HTTPValidationError` as application/json).
            responses[str(error.status)] = {
                "description": entry,
                "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{model}"}}},
            }
        elif error.type_uri() not in response.get("description", ""):
            response["description"] = f"{response.get('description', '')}; {entry}".lstrip("; ")

    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if "422" in responses:
                document(responses, ValidationFailed, "ValidationProblem", ": `errors` lists each invalid value")
            if "requestBody" in operation:
                document(responses, BadRequest, "Problem")
                document(responses, PayloadTooLarge, "Problem")
            for status, response in responses.items():
                content = response.get("content", {})
                # FastAPI adds an application/json twin for a `model`; errors are only ever problem+json.
                twin = content.get("application/json")
                if status.startswith(("4", "5")) and twin is not None and twin == content.get(PROBLEM_MEDIA_TYPE):
                    del content["application/json"]
            operation["responses"] = dict(sorted(responses.items()))
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    for model in (Problem, ValidationProblem, FieldError):
        if model.__name__ not in schemas:
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in model_schema.pop("$defs", {}).items():
                schemas.setdefault(name, definition)
            schemas[model.__name__] = model_schema
    app.openapi_schema = schema
    return schema


def install_problem_openapi(
    app: FastAPI,
    tag_groups: tuple[tuple[str, tuple[str, ...]], ...] = (),
    tag_descriptions: Mapping[str, str] | None = None,
) -> None:
    """Serve `problem_openapi` as the app's OpenAPI document, its tags described and grouped (`x-tagGroups`)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = problem_openapi(app)
        if tag_groups:
            _group_tags(schema, tag_groups, tag_descriptions or {})
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]


def _group_tags(
    schema: dict[str, Any], groups: tuple[tuple[str, tuple[str, ...]], ...], descriptions: Mapping[str, str]
) -> None:
    used = list(
        dict.fromkeys(
            tag
            for path_item in schema.get("paths", {}).values()
            for op in path_item.values()
            for tag in op.get("tags", [])
        )
    )
    grouped = {tag for _, tags in groups for tag in tags}
    listed = [(name, [tag for tag in tags if tag in used]) for name, tags in groups]
    listed[-1][1].extend(tag for tag in used if tag not in grouped)
    schema["tags"] = [
        {"name": tag, **({"description": descriptions[tag]} if tag in descriptions else {})}
        for _, tags in listed
        for tag in tags
    ]
    schema["x-tagGroups"] = [{"name": name, "tags": tags} for name, tags in listed if tags]
