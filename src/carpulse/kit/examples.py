"""OpenAPI response examples: real answers, recorded from the sandbox, kept beside the code
(`carpulse/examples/<name>.json`); the suite checks that each still validates against its response model."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


@cache
def example(name: str) -> Any:
    return json.loads((EXAMPLES_DIR / f"{name}.json").read_text(encoding="utf-8"))


def example_response(name: str, status: int = 200, description: str | None = None) -> dict[int | str, dict[str, Any]]:
    """A `responses` entry whose JSON body is the recorded example `name`."""
    entry: dict[str, Any] = {"content": {"application/json": {"example": example(name)}}}
    if description:
        entry["description"] = description
    return {status: entry}
