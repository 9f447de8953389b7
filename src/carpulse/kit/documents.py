"""Documents: Jinja2 HTML in a locale, and PDF from that HTML with WeasyPrint, off the event loop.

WeasyPrint is CPU-bound (a one-page receipt takes about 0.3 s, a long report seconds) and holds
the GIL, so it runs in a small process pool; a thread would still stall the event loop. This
module is the only one that imports WeasyPrint, and only inside the function that renders.
Workers are spawned, not forked, so a script that renders must guard its entry point with
`if __name__ == "__main__":` (the `carpulse` console script does).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

import jinja2

from carpulse.kit.i18n import resolve_locale, translator

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
# One core stays free for the event loop: a render pool as wide as the machine starves request
# handling (measured: /health p99 ×3 while 4 PDFs render on 2 cores, against ×1.x with one core free).
PDF_POOL_WORKERS = max(1, min(4, (os.cpu_count() or 2) - 1))
# Added to the render processes' niceness (0 = the API's): they yield the CPU to request handling.
RENDER_NICENESS = 10
PARENT_CHECK_SECONDS = 1.0

_T = TypeVar("_T")

# The shared pool (PDF_POOL_WORKERS processes), and a one-process "lane" kept for a report whose
# order has nothing rendering: with every shared process busy on one order's backlog, another
# customer's report starts at once instead of after a whole render (see report/pipeline.py).
_pools: dict[bool, ProcessPoolExecutor] = {}
_pool_lock = threading.Lock()


def document_environment(locale: str) -> jinja2.Environment:
    """The Jinja2 environment for one locale: autoescaped, strict, `_()` / `{% trans %}` from our catalogues.

    One environment per locale (unknown locales get English's), because `jinja2.ext.i18n` installs
    its gettext on the environment.
    """
    return _environment(resolve_locale(locale))


@cache
def _environment(locale: str) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Added by the i18n extension at runtime, hence unknown to the type checker. New-style
    # gettext formats `%(name)s` itself and escapes the values it inserts.
    cast(Any, environment).install_gettext_translations(translator(locale), newstyle=True)
    return environment


def render_html(template: str, locale: str, **context: object) -> str:
    """Render `template` (a file under `carpulse/templates`) in `locale`."""
    return document_environment(locale).get_template(template).render(**context)


def render_pdf(html: str) -> bytes:
    """HTML → PDF bytes, in the calling thread. Blocks: call it only in a worker process."""
    import weasyprint  # type: ignore[import-untyped]

    # Documents are self-contained: no web fonts, no remote images, no file:// reads smuggled in
    # through user text. Only inline `data:` resources load; anything else is skipped with a warning.
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher)
    return cast(bytes, document.write_pdf())


def _pdf_pool(lane: bool = False) -> ProcessPoolExecutor:
    with _pool_lock:
        pool = _pools.get(lane)
        if pool is None:
            # "spawn": forking a process that runs an event loop and threads is unsafe.
            pool = _pools[lane] = ProcessPoolExecutor(
                max_workers=1 if lane else PDF_POOL_WORKERS,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_render_process,
                initargs=(os.getpid(), not lane),
            )
        return pool


def _init_render_process(parent_pid: int, idle: bool = True) -> None:
    """Renders are background work: they get the CPU the API's event loop leaves, and they end with it.

    On Linux the shared pool's processes run under SCHED_IDLE (only when no normal process wants the
    CPU); elsewhere, and in the lane, they are niced. The lane's render is the one another order
    waits for while the pool works through a flood, so it takes CPU from the pool, never from the API.
    A parent killed outright (SIGKILL, the OOM killer) cannot shut its pool down, so each render
    process watches its parent and exits when it is gone; multiprocessing's resource tracker ends
    when the last of them has.
    """
    scheduled_idle = False
    if idle:
        with contextlib.suppress(AttributeError, OSError):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # type: ignore[attr-defined,unused-ignore]
            scheduled_idle = True
    if not scheduled_idle:
        with contextlib.suppress(OSError, AttributeError):
            os.nice(RENDER_NICENESS)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="carpulse-parent-watch", daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    """Exit once the parent is gone: its end of the spawn pipe closes, or this process is re-parented.

    The parent's id comes from the parent: read here, it would already be init's (or a subreaper's)
    when the parent died while this process was still starting, and then never change.
    """
    # Not PR_SET_PDEATHSIG: it fires when the *thread* that spawned the process exits, and any
    # caller's thread may be the one whose submit spawns a render process.
    parent = multiprocessing.parent_process()
    while os.getppid() == parent_pid and (parent is None or parent.is_alive()):
        if parent is None:
            time.sleep(PARENT_CHECK_SECONDS)
        else:
            parent.join(PARENT_CHECK_SECONDS)  # returns at once when the parent's pipe closes
    os._exit(0)


def _discard_pool(broken: ProcessPoolExecutor) -> None:
    with _pool_lock:
        for lane, pool in list(_pools.items()):
            if pool is broken:
                del _pools[lane]
    broken.shutdown(wait=False, cancel_futures=True)


async def run_in_document_pool(function: Callable[..., _T], *args: Any, lane: bool = False) -> _T:
    """Run a picklable, module-level `function(*args)` in the document process pool (or the lane's).

    A pool whose worker died (killed, out of memory) is replaced and the call retried once.
    """
    loop = asyncio.get_running_loop()
    pool = _pdf_pool(lane)
    try:
        return await loop.run_in_executor(pool, function, *args)
    except BrokenProcessPool:
        _discard_pool(pool)
    return await loop.run_in_executor(_pdf_pool(lane), function, *args)


async def render_pdf_off_loop(html: str) -> bytes:
    """`render_pdf` in a worker process; the event loop keeps serving while it runs."""
    return await run_in_document_pool(render_pdf, html)


def shutdown_pdf_pool() -> None:
    """Stop the worker processes (the app's lifespan calls this on shutdown); a later render starts new ones."""
    with _pool_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)
