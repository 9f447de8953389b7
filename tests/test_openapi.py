"""The OpenAPI document keeps our promises: every endpoint lists its errors, every error is a
problem document, and every problem type it names is served at `/problems/{slug}`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from carpulse.api_key.schemas import ApiKeyCreated, ApiKeyList
from carpulse.data_api.schemas import BatchResponse
from carpulse.errors import problem_catalogue
from carpulse.kit.examples import example
from carpulse.receipt.schemas import Invoice, InvoiceList
from carpulse.usage.schemas import UsageReport
from carpulse.vehicle_model.schemas import DynamicVehicle, ModelPage, ModelTrendline, ModelWarranty, StaticVehicle
from tests.conftest import production_overrides

PROBLEM = "application/problem+json"
PROBLEM_SCHEMAS = {"#/components/schemas/Problem", "#/components/schemas/ValidationProblem"}
# Take no input and touch no dependency: nothing a client sends can make them fail.
ALWAYS_200 = {"/", "/api", "/health/live", "/problems"}
# Readiness takes no input either; its one failure is a 503 carrying the `HealthReport` itself.
HEALTH_REPORT = ("/health", "get", "503")
TYPE_IN_DESCRIPTION = re.compile(r"\(/problems/([a-z0-9-]+)\)")
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture
async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(openapi: dict[str, Any]) -> Iterator[Operation]:
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def error_responses(openapi: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """Every declared 4xx/5xx response except readiness's 503 `HealthReport`."""
    for path, method, operation in operations(openapi):
        for status, response in operation["responses"].items():
            if status[0] in "45" and (path, method, status) != HEALTH_REPORT:
                yield path, method, status, response


def referenced_types(openapi: dict[str, Any]) -> dict[str, set[str]]:
    """Problem slugs named in error response descriptions, with the statuses naming them."""
    slugs: dict[str, set[str]] = {}
    for _, _, status, response in error_responses(openapi):
        for slug in TYPE_IN_DESCRIPTION.findall(response.get("description", "")):
            slugs.setdefault(slug, set()).add(status)
    return slugs


def resolve(openapi: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"only local references are expected, got {ref}"
    node: Any = openapi
    for token in ref[2:].split("/"):
        key = token.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), f"{ref}: {key!r} is looked up in a non-object"
        assert key in node, f"{ref} does not resolve: no {key!r}"
        node = node[key]
    return node


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


class TestDocumentationIsServed:
    @pytest.mark.parametrize(
        ("path", "content_type"),
        [
            ("/openapi.json", "application/json"),
            ("/docs", "text/html"),
            ("/redoc", "text/html"),
            ("/api/v1/docs", "text/html"),  # where the Data API's seed serves them
            ("/api/v1/redoc", "text/html"),
        ],
    )
    async def test_answers_200(self, client: httpx.AsyncClient, path: str, content_type: str) -> None:
        response = await client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(content_type)

    async def test_openapi_is_3_1_and_lists_operations(self, openapi: dict[str, Any]) -> None:
        assert openapi["openapi"].startswith("3.1")
        assert list(operations(openapi))


class TestTagGroups:
    async def test_every_tag_is_in_one_group_and_the_data_api_has_its_own(self, openapi: dict[str, Any]) -> None:
        used = {tag for _, _, operation in operations(openapi) for tag in operation.get("tags", [])}
        groups = {group["name"]: group["tags"] for group in openapi["x-tagGroups"]}
        grouped = [tag for tags in groups.values() for tag in tags]
        assert sorted(grouped) == sorted(used)
        assert set(groups["Data API"]) == {"data-api", "data-api-keys", "data-api-billing", "data-api-admin"}
        described = {tag["name"]: tag.get("description") for tag in openapi["tags"]}
        assert "Idempotency-Key" in described["data-api"]

    async def test_every_data_call_offers_the_key_and_the_token(self, openapi: dict[str, Any]) -> None:
        data_calls = [
            (path, operation)
            for path, _, operation in operations(openapi)
            if {"data-api", "data-api-billing"} & set(operation.get("tags", []))
        ]
        assert len(data_calls) >= 6
        for path, operation in data_calls:
            offered = {name for requirement in operation.get("security", []) for name in requirement}
            assert {"bearer", "apiKey"} <= offered, path
            assert "401" in operation["responses"], path


class TestDataApiExamples:
    async def test_every_json_answer_of_the_data_api_has_an_example(self, openapi: dict[str, Any]) -> None:
        tags = {"data-api", "data-api-keys", "data-api-billing"}
        for path, method, operation in operations(openapi):
            if not tags & set(operation.get("tags", [])) or method == "delete":
                continue
            for status, response in operation["responses"].items():
                content = response.get("content", {})
                if not status.startswith("2") or "application/pdf" in content:
                    continue
                assert "example" in content.get("application/json", {}), (method, path, status)

    @pytest.mark.parametrize(
        ("name", "model"),
        [
            ("vehicle_static", StaticVehicle),
            ("vehicle_dynamic", DynamicVehicle),
            ("vehicle_batch", BatchResponse),
            ("models", ModelPage),
            ("model_trendline", ModelTrendline),
            ("model_warranty", ModelWarranty),
            ("usage", UsageReport),
            ("invoice", Invoice),
            ("invoices", InvoiceList),
            ("keys", ApiKeyList),
            ("key_created", ApiKeyCreated),
        ],
    )
    def test_each_recorded_example_still_fits_its_model(self, name: str, model: type[BaseModel]) -> None:
        model.model_validate(example(name))


def production_settings(**http: Any) -> dict[str, Any]:
    overrides = production_overrides()
    del overrides["admin"]  # the suite's admin
    overrides["http"] = {**overrides["http"], **http}
    return overrides


class TestDocumentationInProduction:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return production_settings()

    @pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"])
    async def test_is_not_served(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM

    async def test_is_not_linked_from_the_root(self, client: httpx.AsyncClient) -> None:
        body = (await client.get("/")).json()
        assert (body["environment"], body["docs"], body["redoc"], body["openapi"]) == ("production", None, None, None)
        assert body["health"] == "https://api.carpulsetracker.com/health"


class TestDocumentationInProductionWhenAskedFor:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return production_settings(docs=True)

    @pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc"])
    async def test_is_served(self, client: httpx.AsyncClient, path: str) -> None:
        assert (await client.get(path)).status_code == 200

    async def test_is_linked_from_the_root(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/")).json()["docs"] == "https://api.carpulsetracker.com/docs"


class TestDocumentationSwitchedOffOutsideProduction:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"http": {"docs": False}}

    async def test_is_not_served(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/openapi.json")).status_code == 404
        assert (await client.get("/docs")).status_code == 404


class TestEveryOperationListsItsErrors:
    async def test_declares_a_client_error_unless_it_is_documented_as_always_200(self, openapi: dict[str, Any]) -> None:
        silent = [
            f"{method.upper()} {path}"
            for path, method, operation in operations(openapi)
            if path not in ALWAYS_200
            and (path, method, "503") != HEALTH_REPORT
            and not any(status.startswith("4") for status in operation["responses"])
        ]
        assert silent == [], "operations that declare no 4xx response"

    async def test_always_200_endpoints_exist_and_declare_only_200(self, openapi: dict[str, Any]) -> None:
        for path in ALWAYS_200:
            assert path in openapi["paths"], f"{path} is listed as always-200 but is not in the document"
            for method, operation in openapi["paths"][path].items():
                assert set(operation["responses"]) == {"200"}, f"{method.upper()} {path}"

    @pytest.mark.parametrize("path", sorted(ALWAYS_200))
    async def test_always_200_endpoints_answer_200(self, client: httpx.AsyncClient, path: str) -> None:
        assert (await client.get(path)).status_code == 200

    async def test_operations_with_a_body_declare_unreadable_and_oversized_bodies(
        self, openapi: dict[str, Any]
    ) -> None:
        for path, method, operation in operations(openapi):
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(operation["responses"]), f"{method.upper()} {path}"

    async def test_readiness_503_is_a_health_report(self, openapi: dict[str, Any]) -> None:
        path, method, status = HEALTH_REPORT
        content = openapi["paths"][path][method]["responses"][status]["content"]
        assert content == {"application/json": {"schema": {"$ref": "#/components/schemas/HealthReport"}}}


class TestErrorsAreProblemDocuments:
    async def test_every_error_response_is_problem_json(self, openapi: dict[str, Any]) -> None:
        wrong = {
            f"{method.upper()} {path} {status}": response.get("content")
            for path, method, status, response in error_responses(openapi)
            if response.get("content", {}).get(PROBLEM, {}).get("schema", {}).get("$ref") not in PROBLEM_SCHEMAS
        }
        assert wrong == {}

    async def test_no_error_response_claims_plain_json(self, openapi: dict[str, Any]) -> None:
        # FastAPI adds an application/json twin to a response `model`; our errors never use it.
        twins = [
            f"{method.upper()} {path} {status}"
            for path, method, status, response in error_responses(openapi)
            if "application/json" in response.get("content", {})
        ]
        assert twins == []

    async def test_validation_errors_use_validation_problem(self, openapi: dict[str, Any]) -> None:
        for path, method, status, response in error_responses(openapi):
            if status == "422":
                schema = response["content"][PROBLEM]["schema"]
                assert schema == {"$ref": "#/components/schemas/ValidationProblem"}, f"{method.upper()} {path}"

    async def test_every_error_response_names_its_problem_types(self, openapi: dict[str, Any]) -> None:
        unnamed = [
            f"{method.upper()} {path} {status}"
            for path, method, status, response in error_responses(openapi)
            if not TYPE_IN_DESCRIPTION.search(response.get("description", ""))
        ]
        assert unnamed == []


class TestComponents:
    async def test_no_fastapi_validation_error_schema_remains(self, openapi: dict[str, Any]) -> None:
        schemas = openapi["components"]["schemas"]
        assert "HTTPValidationError" not in schemas
        assert "ValidationError" not in schemas
        assert not [ref for ref in refs(openapi) if ref.endswith(("/HTTPValidationError", "/ValidationError"))]

    async def test_every_ref_resolves(self, openapi: dict[str, Any]) -> None:
        found = set(refs(openapi))
        assert found
        for ref in found:
            resolve(openapi, ref)

    async def test_problem_schemas_exist(self, openapi: dict[str, Any]) -> None:
        schemas = openapi["components"]["schemas"]
        assert set(schemas["Problem"]["required"]) == {"type", "title", "status"}
        assert set(schemas["ValidationProblem"]["required"]) >= {"type", "title", "status"}
        assert schemas["ValidationProblem"]["properties"]["errors"]["items"] == {
            "$ref": "#/components/schemas/FieldError"
        }
        assert set(schemas["FieldError"]["required"]) == {"loc", "message", "type"}


class TestProblemTypesAreServed:
    async def test_every_referenced_type_is_served_with_the_status_it_is_declared_under(
        self, client: httpx.AsyncClient, openapi: dict[str, Any]
    ) -> None:
        referenced = referenced_types(openapi)
        assert {"not-found", "validation-failed"} <= set(referenced)
        for slug, statuses in referenced.items():
            response = await client.get(f"/problems/{slug}")
            assert response.status_code == 200, f"{slug}: {response.text}"
            body = response.json()
            assert body["type"] == f"/problems/{slug}"
            assert body["slug"] == slug
            assert statuses == {str(body["status"])}, f"{slug} is declared under {statuses}"
            assert body["title"]
            assert body["description"]

    async def test_the_list_names_every_referenced_type_and_the_whole_catalogue(
        self, client: httpx.AsyncClient, openapi: dict[str, Any]
    ) -> None:
        response = await client.get("/problems")
        assert response.status_code == 200
        listed = [problem["slug"] for problem in response.json()]
        assert listed == sorted(set(listed))
        assert set(referenced_types(openapi)) <= set(listed)
        assert set(listed) == set(problem_catalogue())
        for problem in response.json():
            assert problem["type"] == f"/problems/{problem['slug']}"

    async def test_an_unknown_slug_is_a_404_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/problems/no-such-problem")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith(PROBLEM)
        body = response.json()
        assert body["type"] == "/problems/not-found"
        assert body["status"] == 404
        assert body["title"]
        assert "no-such-problem" in body["detail"]
        assert body["instance"] == "/problems/no-such-problem"
