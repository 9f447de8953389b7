"""The README keeps telling the truth where a machine can check it: the layout, the commands, the settings."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import click
import typer
from pydantic import BaseModel

from carpulse.cli import app
from carpulse.config import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")
PACKAGE = ROOT / "src" / "carpulse"
VARIABLE = re.compile(r"\bCARPULSE_[A-Z0-9_]*[A-Z0-9]")
# A command as the README writes one: in backticks, or at the start of a line of a shell example.
COMMAND = re.compile(r"(?:`|^\s*(?:\$ )?)carpulse ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", re.MULTILINE)


def layout_block() -> str:
    section = README.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1]


def layout_paths() -> set[str]:
    """Every path the layout tree names, from its indentation: `src/carpulse/kit/storage/`, ..."""
    paths: set[str] = set()
    stack: list[tuple[int, str]] = []
    for line in layout_block().splitlines():
        match = re.match(r"^( *)(\S+(?:, \S+)*)", line)
        if match is None:
            continue
        indent = len(match[1])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = "".join(name for _, name in stack)
        names = [name.strip() for name in match[2].split(",")]
        paths.update(parent + name for name in names)
        if len(names) == 1 and names[0].endswith("/"):
            stack.append((indent, names[0]))
    return paths


def settings_variables(model: type[BaseModel] = Settings, prefix: str = "CARPULSE_") -> dict[str, bool]:
    """Every environment variable Settings reads, and whether it takes a mapping (`…__KEY` below it)."""
    found: dict[str, bool] = {}
    for field_name, info in model.model_fields.items():
        name = info.alias or field_name  # `CARPULSE_MAIL__FROM` reads the field `from_address`
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found |= settings_variables(annotation, f"{prefix}{name.upper()}__")
        else:
            found[f"{prefix}{name.upper()}"] = typing.get_origin(annotation) is dict
    return found


def harness_variables() -> set[str]:
    """Variables the tests and benchmarks read themselves (the test database, the fuzz budget), not Settings."""
    sources = [*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py"), ROOT / "Makefile"]
    read: set[str] = set()
    for source in sources:
        text = source.read_text(encoding="utf-8")
        read |= set(re.findall(r"(?:environ(?:\.get)?[(\[]|getenv\()\s*\"(CARPULSE_[A-Z0-9_]+)\"", text))
        read |= set(re.findall(r"\$\((CARPULSE_[A-Z0-9_]+)\)", text))
    return read


def unknown(names: set[str]) -> list[str]:
    known = settings_variables()
    mappings = [name for name, is_mapping in known.items() if is_mapping]
    harness = harness_variables()
    return sorted(
        name
        for name in names
        if name not in known and name not in harness and not any(name.startswith(f"{m}__") for m in mappings)
    )


class TestLayout:
    def test_every_package_is_in_the_layout(self) -> None:
        paths = layout_paths()
        packages = sorted(
            f"src/carpulse/{init.parent.relative_to(PACKAGE).as_posix()}/"
            for init in PACKAGE.rglob("__init__.py")
            if init.parent != PACKAGE
        )

        assert [package for package in packages if package not in paths] == []

    def test_every_top_level_module_is_in_the_layout(self) -> None:
        paths = layout_paths()
        modules = sorted(
            f"src/carpulse/{module.name}" for module in PACKAGE.glob("*.py") if module.name != "__init__.py"
        )

        assert [module for module in modules if module not in paths] == []

    def test_the_layout_names_nothing_that_is_gone(self) -> None:
        named = sorted(path for path in layout_paths() if path.startswith("src/carpulse/"))

        assert [path for path in named if not (ROOT / path).exists()] == []


class TestCommands:
    def test_every_command_the_readme_names_exists(self) -> None:
        cli = typer.main.get_command(app)
        assert isinstance(cli, click.Group | typer.core.TyperGroup)
        named = {(match[1], match[2]) for match in COMMAND.finditer(README)}
        assert {first for first, _ in named} >= {"serve", "worker", "demo", "migrate"}

        missing = []
        for first, second in sorted(named, key=lambda pair: (pair[0], pair[1] or "")):
            command = cli.commands.get(first)
            if command is None:
                missing.append(first)
            elif isinstance(command, click.Group | typer.core.TyperGroup) and second not in command.commands:
                missing.append(f"{first} {second}")
        assert missing == []


class TestSettings:
    def test_every_variable_the_readme_names_is_a_setting(self) -> None:
        assert unknown(set(VARIABLE.findall(README))) == []

    def test_every_variable_in_env_example_is_a_setting(self) -> None:
        assert unknown(set(VARIABLE.findall(ENV_EXAMPLE))) == []

    def test_env_example_documents_every_setting(self) -> None:
        documented = set(VARIABLE.findall(ENV_EXAMPLE))

        assert sorted(set(settings_variables()) - documented) == []

    def test_a_misspelt_variable_would_be_caught(self) -> None:
        assert unknown({"CARPULSE_STORAGE__URL", "CARPULSE_STORAGE__URI"}) == ["CARPULSE_STORAGE__URI"]
