"""Stripe's v1 form encoding: bracketed keys into nested dicts and lists (reference §2.1, §2.13 item 1).

Values arrive as strings; readers below coerce them where Stripe documents a number or a boolean.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from fakes.stripe.errors import StripeApiError

_KEY_PART = re.compile(r"[^\[\]]+")


def decode_stripe_form(body: str) -> dict[str, Any]:
    """`line_items[0][price_data][unit_amount]=1900` → `{"line_items": [{"price_data": {"unit_amount": "1900"}}]}`."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = _KEY_PART.findall(key)
        if not parts:
            continue
        node: Any = root
        for position, part in enumerate(parts):
            last = position == len(parts) - 1
            child: Any = value if last else ([] if parts[position + 1].isdigit() else {})
            if isinstance(node, list):
                if not part.isdigit():
                    raise StripeApiError(400, f"Invalid array index in {key}.", param=key)
                index = int(part)
                node.extend([None] * (index + 1 - len(node)))
                if last:
                    node[index] = value
                else:
                    if node[index] is None:
                        node[index] = child
                    node = node[index]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, child)
            else:
                raise StripeApiError(400, f"Invalid nesting in {key}.", param=key)
    return root


def text(params: dict[str, Any], name: str, *, required: bool = False, param: str | None = None) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise StripeApiError(400, f"Missing required param: {param or name}.", param=param or name)
        return None
    if not isinstance(value, str):
        raise StripeApiError(400, f"Invalid string: {param or name}.", param=param or name)
    return value


def integer(params: dict[str, Any], name: str, *, required: bool = False, param: str | None = None) -> int | None:
    raw = text(params, name, required=required, param=param)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise StripeApiError(400, f"Invalid integer: {raw}", param=param or name) from None


def mapping(params: dict[str, Any], name: str, *, param: str | None = None) -> dict[str, Any]:
    value = params.get(name)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise StripeApiError(400, f"Invalid object: {param or name}.", param=param or name)
    return value


def sequence(params: dict[str, Any], name: str, *, param: str | None = None) -> list[Any]:
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, dict):  # `expand[0]` sent as a map by some clients
        value = [value[key] for key in sorted(value, key=lambda k: int(k) if k.isdigit() else k)]
    if not isinstance(value, list):
        raise StripeApiError(400, f"Invalid array: {param or name}.", param=param or name)
    return [item for item in value if item is not None]


def metadata(params: dict[str, Any], name: str = "metadata", *, param: str | None = None) -> dict[str, str]:
    values = mapping(params, name, param=param)
    if any(not isinstance(item, str) for item in values.values()):
        raise StripeApiError(400, "Metadata values must be strings.", param=param or name)
    if len(values) > 50:
        raise StripeApiError(400, "Metadata may hold at most 50 keys.", param=param or name)
    return {key: str(item) for key, item in values.items() if item != ""}
