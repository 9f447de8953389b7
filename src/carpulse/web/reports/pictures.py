"""Pictures of the connected cars, drawn here: one side view per model, its body in the car's paint.

Tesla's compositor is not reachable from the service, and the inventory tells only the model (from the
VIN) and, when Tesla fills `option_codes` or `color`, the paint (`VehicleSummary.image_hint`, e.g.
`model-3/deep-blue`). The drawing is an SVG with presentation attributes (no `style`, so the page CSP
holds) under a versioned URL cached for a year.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

from carpulse.web.pages import PageError, page_router

PICTURE_VERSION = "v1"
PICTURE_PREFIX = f"/reports/pictures/{PICTURE_VERSION}"
UNKNOWN_PAINT = "unknown"
GENERIC_MODEL = "generic"

# Paint → (body colour, outline colour): a white car needs a darker outline to show on the white page.
PAINTS: dict[str, tuple[str, str]] = {
    "pearl-white": ("#f1f0ea", "#8d9096"),
    "white": ("#fbfbfb", "#8d9096"),
    "black": ("#1d1e21", "#000000"),
    "midnight-silver": ("#4b5058", "#2b2e33"),
    "silver": ("#bcc0c5", "#6f747a"),
    "deep-blue": ("#1f4080", "#102247"),
    "red": ("#b1141f", "#6b0b12"),
    "cherry": ("#5c1522", "#340a12"),
    "quicksilver": ("#a2a7ad", "#5f646a"),
    "stealth-grey": ("#3d4044", "#1f2124"),
    UNKNOWN_PAINT: ("#8c939b", "#4d535a"),
}


@dataclass(frozen=True)
class Shape:
    body: str
    windows: str
    wheels: tuple[int, int]


# Side views in a 400×160 box, ground at y=146; the wheels are drawn over the body's arches.
SHAPES: dict[str, Shape] = {
    "model-3": Shape(
        "M20,118 C20,101 34,95 60,92 L122,86 C150,62 190,53 235,55 C270,57 300,72 330,88 L368,94 "
        "C380,97 384,106 384,118 L384,126 L20,126 Z",
        "M134,86 C158,67 192,61 232,62 C262,64 284,75 304,87 Z",
        (95, 305),
    ),
    "model-y": Shape(
        "M20,120 C20,96 32,88 58,84 L112,78 C142,44 190,36 244,38 C284,40 314,60 338,80 L370,89 "
        "C383,93 386,104 386,120 L386,128 L20,128 Z",
        "M126,78 C154,50 192,44 240,45 C276,47 300,62 320,78 Z",
        (95, 307),
    ),
    "model-s": Shape(
        "M12,118 C12,102 28,96 55,93 L126,88 C160,63 200,56 250,58 C290,60 320,76 346,90 L378,96 "
        "C390,99 392,108 392,118 L392,126 L12,126 Z",
        "M140,88 C166,69 202,63 248,64 C280,66 304,78 322,89 Z",
        (92, 312),
    ),
    "model-x": Shape(
        "M16,120 C16,92 28,82 54,78 L100,72 C132,34 188,24 254,26 C302,28 332,52 352,74 L376,85 "
        "C388,89 390,102 390,120 L390,128 L16,128 Z",
        "M114,72 C146,40 192,33 252,34 C290,36 316,52 334,70 Z",
        (94, 312),
    ),
    "cybertruck": Shape(
        "M14,112 L20,92 L200,42 L386,78 L390,112 L390,126 L14,126 Z",
        "M118,80 L200,52 L292,70 L292,80 Z",
        (92, 318),
    ),
    GENERIC_MODEL: Shape(
        "M20,118 C20,100 35,94 62,90 L118,84 C145,58 185,52 250,54 L330,58 C350,70 360,84 370,96 "
        "C382,100 384,108 384,118 L384,126 L20,126 Z",
        "M130,84 C155,63 188,59 248,60 L318,63 C332,72 340,80 346,86 Z",
        (95, 305),
    ),
}


def picture_url(image_hint: str | None) -> str:
    """The picture of a vehicle from its hint (`model-3/deep-blue`, `model-y`, None): always a drawing."""
    model, _, paint = (image_hint or "").partition("/")
    model = model if model in SHAPES else GENERIC_MODEL
    return f"{PICTURE_PREFIX}/{model}/{paint if paint in PAINTS else UNKNOWN_PAINT}.svg"


def paint_of_hint(image_hint: str | None) -> str:
    paint = (image_hint or "").partition("/")[2]
    return paint if paint in PAINTS else UNKNOWN_PAINT


def draw(model: str, paint: str) -> str:
    shape = SHAPES[model]
    body, outline = PAINTS[paint]
    wheels = "".join(
        f'<circle cx="{x}" cy="124" r="23" fill="#202226"/><circle cx="{x}" cy="124" r="11" fill="#9aa0a6"/>'
        f'<circle cx="{x}" cy="124" r="4" fill="#303236"/>'
        for x in shape.wheels
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 160" width="400" height="160">'
        '<ellipse cx="200" cy="148" rx="180" ry="6" fill="#000000" fill-opacity="0.12"/>'
        f'<path d="{shape.body}" fill="{body}" stroke="{outline}" stroke-width="2" stroke-linejoin="round"/>'
        f'<path d="{shape.windows}" fill="#27323f" fill-opacity="0.85"/>'
        f'<path d="M40,106 L364,106" stroke="{outline}" stroke-opacity="0.35" stroke-width="1.5"/>'
        f"{wheels}</svg>"
    )


router = page_router()


@router.get(PICTURE_PREFIX + "/{model}/{paint}.svg")
async def picture(request: Request, model: str, paint: str) -> Response:
    if model not in SHAPES or paint not in PAINTS:
        raise PageError(404, "web.error.404.text")
    # The URL names the drawing's version: a new drawing gets a new URL, so a year's caching is safe.
    return Response(
        draw(model, paint),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"},
    )
