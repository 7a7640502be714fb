"""A P586 PDF three ways: WeasyPrint (ours), a warm headless Chromium, and the cache.

- WeasyPrint, cold: the first P586 PDF of a fresh process that has run ``pdf.warm_up()``,
  as a PDF pool worker makes its first real document. A cold *document*, not a cold process:
  the imports and the warm-up itself are not timed (a worker does them once, at start).
  Median of ``--cold`` fresh processes.
- WeasyPrint, steady: the same print HTML again and again in one warmed process.
- Chromium: one browser, one page, kept open (Playwright): ``set_content`` + ``pdf`` per
  document, with the networking flags from TRAPS.md. This is the bar issue 15 sets.
- Cached: ``outputs.Cache.get_or_render`` answering from the shared table (a new process's
  first read) and from its memory layer.

Prints medians, the ratios WeasyPrint / warm Chromium (target for cold: at most 1.0) and the
load average. Wall-clock figures move with the load of a shared machine, so each is printed
beside its CPU time as well: WeasyPrint's process, and for Chromium the sum over every
process Playwright started (its driver, the browser and its renderer), read from /proc.

    .venv/bin/python bench/render.py [--repeat 5] [--cold 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


COLD_DOCUMENT = """
import sys, time
html = open(sys.argv[1], encoding="utf-8").read()
from caresheet.render.pdf import html_to_pdf, warm_up
warm_up()
started, cpu = time.perf_counter(), time.process_time()
html_to_pdf(html)
print(time.perf_counter() - started, time.process_time() - cpu)
"""


@dataclass(frozen=True)
class Figure:
    """Median seconds per PDF: wall clock and CPU."""

    wall: float
    cpu: float

    def show(self, label: str) -> str:
        return f"{label:37s}{self.wall * 1000:8.1f} ms   (CPU {self.cpu * 1000:6.1f} ms)"


def median_figure(pairs: list[tuple[float, float]]) -> Figure:
    return Figure(statistics.median(w for w, _ in pairs), statistics.median(c for _, c in pairs))


def weasyprint(html: str, repeat: int, cold_runs: int) -> tuple[Figure, Figure]:
    """(first PDF of a warmed fresh process, steady renders in one process)."""
    from caresheet.render.pdf import html_to_pdf, warm_up

    colds = []
    with tempfile.NamedTemporaryFile("w", suffix=".html", encoding="utf-8") as handle:
        handle.write(html)
        handle.flush()
        for _ in range(cold_runs):
            out = subprocess.run([sys.executable, "-c", COLD_DOCUMENT, handle.name],
                                 capture_output=True, text=True, check=True).stdout.split()
            colds.append((float(out[0]), float(out[1])))
    warm_up()
    times = []
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        html_to_pdf(html)
        times.append((time.perf_counter() - started, time.process_time() - cpu))
    return median_figure(colds), median_figure(times)


def descendants_cpu() -> float:
    """CPU seconds (user + system) used so far by every live descendant of this process."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0.0, list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        total += used[pid]
        todo.extend(children.get(pid, []))
    return total


def chromium(html: str, repeat: int) -> Figure | None:
    """Median per PDF in one warm browser page, or None without Playwright.

    Its CPU figure is the mean over the runs (the processes' counters are read around the
    whole loop, at the kernel's 10 ms resolution).
    """
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
        cpu = descendants_cpu()
        for _ in range(repeat):
            started = time.perf_counter()
            page.set_content(html)
            page.pdf(format="Letter", prefer_css_page_size=True)
            times.append(time.perf_counter() - started)
        cpu = (descendants_cpu() - cpu) / repeat
        browser.close()
    return Figure(statistics.median(times), cpu)


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


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cold", type=int, default=3, help="fresh processes for the cold figure")
    args = parser.parse_args()
    html = print_html()
    print(f"before: {load()}")
    cold, steady = weasyprint(html, args.repeat, args.cold)
    warm = chromium(html, args.repeat)
    table, memory = cached(args.repeat)
    print(cold.show("WeasyPrint, cold document (warmed)"))
    print(steady.show("WeasyPrint, steady (same document)"))
    if warm is None:
        print("Chromium (warm page)                  n/a (no Playwright or /usr/bin/chromium)")
    else:
        print(warm.show("Chromium, warm page (Playwright)"))
        for label, ours in (("cold", cold), ("steady", steady)):
            print(f"ratio WeasyPrint {label} / Chromium".ljust(37)
                  + f"{ours.wall / warm.wall:8.2f} wall  {ours.cpu / warm.cpu:5.2f} CPU"
                  + ("   (target <= 1.0)" if label == "cold" else ""))
    print(f"cached PDF, from the shared table    {table * 1000:8.2f} ms")
    print(f"cached PDF, from process memory      {memory * 1000:8.3f} ms")
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
