"""Which version this is: `CARPULSE_APP_VERSION`, else the latest git tag, else the package."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

_REPOSITORY = Path(__file__).resolve().parents[3]


def git_tag_version(repository: Path = _REPOSITORY) -> str | None:
    if not (repository / ".git").exists():
        return None
    try:
        argv = ["git", "-C", str(repository), "describe", "--tags", "--abbrev=0"]
        result = subprocess.run(  # noqa: S603 - fixed argv; git from PATH is optional here
            argv,
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    tag = result.stdout.strip()
    return tag if result.returncode == 0 and tag else None


def package_version() -> str:
    try:
        return metadata.version("carpulse")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def resolve_version(configured: str | None) -> str:
    return configured or git_tag_version() or package_version()
