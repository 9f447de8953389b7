"""Browser tests: the real app served by `carpulse serve` on a loopback port, driven by Debian's Chromium.

Playwright launches the machine's `chromium` (debian-packages.txt; `make test` installs it): nothing is
downloaded at test time. Every request to another host is aborted and recorded, so a page that works
here works offline; console errors (CSP violations among them) are recorded too. A failing test leaves
a screenshot in the run's temporary directory and names it in its report.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect, sync_playwright

from tests.conftest import ADMIN_USERNAME
from tests.redis_server import free_port

CHROMIUM = shutil.which("chromium")
STARTUP_SECONDS = 60
# The suite's two workers keep both cores busy: a page that renders a large document in script (Swagger UI,
# ReDoc) or waits for a job can take seconds. Waits are for things that do happen; a failure still fails.
expect.set_options(timeout=20_000)
SCREENSHOTS_VARIABLE = "CARPULSE_SCREENSHOTS"


@dataclass
class LiveServer:
    base_url: str

    @property
    def netloc(self) -> str:
        return urlsplit(self.base_url).netloc


@dataclass
class BrowserPage:
    """A page in a fresh browser context, and what it tried that a test asserts never happens."""

    page: Page
    screenshot_dir: Path
    console_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)

    def shot(self, name: str) -> None:
        """A reference screenshot of the page as it is now, kept when `CARPULSE_SCREENSHOTS` names a folder
        (`make screenshots`): `<folder>/<name>.png`, the whole page at the context's viewport width."""
        folder = os.environ.get(SCREENSHOTS_VARIABLE)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=Path(folder) / f"{name}.png", full_page=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    watched = getattr(item, "funcargs", {}).get("browser_page")
    if report.when == "call" and report.failed and isinstance(watched, BrowserPage):
        # Taken here, while the page is as the failure left it, and named in the failure's report.
        watched.screenshot_dir.mkdir(parents=True, exist_ok=True)
        shot = watched.screenshot_dir / f"{item.name}.png"
        watched.page.screenshot(path=shot, full_page=True)
        report.sections.append(("screenshot", str(shot)))
    return report


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, admin_password_hash: str) -> Iterator[LiveServer]:
    """`carpulse serve` with the embedded defaults (SQLite, in-process stores, the sandbox), as `make run` has it,
    and the suite's admin (`tests.conftest.ADMIN_USERNAME` / `ADMIN_PASSWORD`)."""
    with serve(tmp_path_factory.mktemp("web-serve"), admin_password_hash) as server:
        yield server


@contextmanager
def serve(root: Path, admin_password_hash: str, **settings: str) -> Iterator[LiveServer]:
    """`carpulse serve` as `live_server` has it, with `settings` (`CARPULSE_…` variables) on top."""
    port = free_port()
    env = (
        os.environ
        | {
            "CARPULSE_ENVIRONMENT": "test",
            "CARPULSE_DATABASE__URL": f"sqlite+aiosqlite:///{root / 'carpulse.db'}",
            "CARPULSE_STORAGE__URL": str(root / "storage"),
            "CARPULSE_TESLA__PUBLIC_KEY_PATH": str(root / "keys" / "public.pem"),
            "CARPULSE_TESLA__PRIVATE_KEY_PATH": str(root / "keys" / "private.pem"),
            "CARPULSE_LOG__LEVEL": "WARNING",
            "CARPULSE_ADMIN__USERNAME": ADMIN_USERNAME,
            "CARPULSE_ADMIN__PASSWORD_HASH": admin_password_hash,
        }
        | settings
    )
    env.pop("CARPULSE_REDIS__URL", None)
    command = [sys.executable, "-m", "carpulse.cli"]
    subprocess.run([*command, "migrate"], env=env, check=True, capture_output=True, cwd=root)
    log_path = root / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=root,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                assert process.poll() is None, log_path.read_text()
                try:
                    if httpx.get(f"{base_url}/health/live", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
            yield LiveServer(base_url)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# Per module, not per session: Playwright's sync API leaves its event loop set as the thread's running
# loop while it is started, and the suite's async tests cannot run beside it. A browser test module
# therefore holds sync tests only.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("no `chromium` on PATH: `make system-packages` installs Debian's (debian-packages.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(
    browser: Browser,
    live_server: LiveServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BrowserPage]:
    context = browser.new_context(base_url=live_server.base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watched = BrowserPage(page, tmp_path_factory.getbasetemp() / "screenshots")

    def only_our_host(route: Route) -> None:
        if urlsplit(route.request.url).netloc == live_server.netloc:
            route.continue_()
        else:
            watched.blocked_requests.append(route.request.url)
            route.abort("blockedbyclient")

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.console_errors.append(message.text)

    context.route("**/*", only_our_host)
    page.on("console", console)
    page.on("pageerror", lambda error: watched.console_errors.append(f"uncaught: {error}"))
    try:
        yield watched
    finally:
        context.close()


_ID_IN_PATH = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}|[A-Za-z0-9_-]{20,}")


def _keep_screenshot(page: Page) -> None:
    folder = os.environ.get(SCREENSHOTS_VARIABLE)
    if not folder:
        return
    parts = urlsplit(page.url)
    name = _ID_IN_PATH.sub("id", parts.path.strip("/")).replace("/", "_") or "landing"
    language = page.locator("html").get_attribute("lang") or ""
    width = page.viewport_size["width"] if page.viewport_size else 0
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=Path(folder) / f"{name}-{language}-{width}.png", full_page=True)


# axe-core's impacts; a page may have none of these.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


def axe_violations(page: Page) -> list[str]:
    """The serious and critical accessibility violations axe-core (4.x, from axe-playwright-python) finds on the
    page as it is now, one line each: rule, impact, the first offending element. Injected through the
    DevTools protocol, so the page's CSP does not stop it.

    Every page a test checks is a page a person should look at too: with `CARPULSE_SCREENSHOTS` set
    (`make screenshots`) it is kept as `<path>-<width>.png` (ids in the path shortened to `id`)."""
    _keep_screenshot(page)
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at {violation['nodes'][0]['target']}"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]
