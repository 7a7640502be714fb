"""A P586 PDF three ways: WeasyPrint (ours), a warm headless Chromium, and the cache.

- WeasyPrint: the first PDF of a fresh process (imports, fonts) and then steady renders of
  the same print HTML, as a PDF pool worker makes them.
- Chromium: one browser, one page, kept open (Playwright): ``set_content`` + ``pdf`` per
  document, with the networking flags from TRAPS.md. This is the bar issue 15 sets.
- Cached: ``outputs.Cache.get_or_render`` answering from the shared table (a new process's
  first read) and from its memory layer.

Prints medians and the ratio WeasyPrint / warm Chromium (target: at most 1.0).

    .venv/bin/python bench/render.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--no-first-run",
                 "--disable-component-update"]
FILLED = {"lie_flat_hours": "2", "clinic_phone": "555-0100"}


def print_html() -> str:
    from caresheet.authoring.parse import read_file
    from caresheet.library import LIBRARY_DIR
    from caresheet.render.html import render_print, sheet_page

    sheet = read_file(LIBRARY_DIR / "P586.en.md").sheet
    return render_print(sheet_page(sheet, FILLED, qr_url="https://care.example/sheets/P586"))


FIRST_IN_PROCESS = """
import sys, time
html = open(sys.argv[1], encoding="utf-8").read()
started = time.perf_counter()
from caresheet.render.pdf import html_to_pdf
html_to_pdf(html)
print(time.perf_counter() - started)
"""


def weasyprint(html: str, repeat: int) -> tuple[float, float]:
    """(first PDF of a fresh process, median of steady renders) in seconds."""
    from caresheet.render.pdf import html_to_pdf, warm_up

    with tempfile.NamedTemporaryFile("w", suffix=".html", encoding="utf-8") as handle:
        handle.write(html)
        handle.flush()
        first = float(subprocess.run([sys.executable, "-c", FIRST_IN_PROCESS, handle.name],
                                     capture_output=True, text=True, check=True).stdout)
    warm_up()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        html_to_pdf(html)
        times.append(time.perf_counter() - started)
    return first, statistics.median(times)


def chromium(html: str, repeat: int) -> float | None:
    """Median seconds per PDF in one warm browser page, or None without Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_content(html)
        page.pdf()  # warm: the first print loads fonts and the PDF backend
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            page.set_content(html)
            page.pdf(format="Letter", prefer_css_page_size=True)
            times.append(time.perf_counter() - started)
        browser.close()
    return statistics.median(times)


def cached(repeat: int) -> tuple[float, float]:
    """(median from the shared table, median from the memory layer) in seconds."""
    from caresheet import outputs
    from caresheet.sheets import install_samples
    from caresheet.store.db import Store

    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/bench.db")
        with store.session() as session:
            install_samples(session)  # published, as `caresheet init` leaves them
        wanted = outputs.Wanted("P586", "pdf", FILLED,
                                outputs.Options(qr_url="https://care.example/sheets/P586"))
        outputs.Cache(store, 64 * 2**20).get_or_render(wanted, "en")  # made once, stored
        from_table, from_memory = [], []
        for _ in range(repeat):
            fresh = outputs.Cache(store, 64 * 2**20)  # as another process would start
            started = time.perf_counter()
            fresh.get_or_render(wanted, "en")
            from_table.append(time.perf_counter() - started)
            started = time.perf_counter()
            fresh.get_or_render(wanted, "en")
            from_memory.append(time.perf_counter() - started)
        store.close()
    return statistics.median(from_table), statistics.median(from_memory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    html = print_html()
    first, steady = weasyprint(html, args.repeat)
    warm = chromium(html, args.repeat)
    table, memory = cached(args.repeat)
    print(f"WeasyPrint, first PDF of a process  {first * 1000:8.1f} ms")
    print(f"WeasyPrint, steady (pool worker)    {steady * 1000:8.1f} ms")
    if warm is None:
        print("Chromium (warm page)                  n/a (Playwright or /usr/bin/chromium missing)")
    else:
        print(f"Chromium, warm page (Playwright)    {warm * 1000:8.1f} ms")
        print(f"ratio WeasyPrint steady / Chromium  {steady / warm:8.2f}  (target <= 1.0)")
    print(f"cached PDF, from the shared table   {table * 1000:8.2f} ms")
    print(f"cached PDF, from process memory     {memory * 1000:8.3f} ms")


if __name__ == "__main__":
    main()
