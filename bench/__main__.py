"""`make bench`: run every benchmark module and print its figures."""

from __future__ import annotations

from bench import platform


def main() -> None:
    platform.run()


if __name__ == "__main__":
    main()
