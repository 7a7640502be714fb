"""PDF time per shipped sheet: WeasyPrint (ours) against headless Chromium's --print-to-pdf.

Both print the very same HTML file (the print page with its CSS and fonts inline). Chromium
runs with the networking flags from TRAPS.md and --no-pdf-header-footer; its time includes
starting the browser, which is what a one-shot command-line print costs. Prints figures
and ratios; the target is under 0.5 s per PDF for WeasyPrint.

    .venv/bin/python bench/render.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from caresheet.authoring.parse import iter_sheet_files, read_file
from caresheet.library import LIBRARY_DIR
from caresheet.model.sheet import Sheet
from caresheet.render.html import render_print, sheet_page
from caresheet.render.pdf import html_to_pdf

TARGET_SECONDS = 0.5
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-pdf-header-footer",
]


def library() -> list[Sheet]:
    bases: dict[str, Sheet] = {}
    sheets = []
    for path in iter_sheet_files([LIBRARY_DIR]):
        parsed = read_file(path, base=bases.get(path.name.split(".")[0])).sheet
        if parsed.translation_of is None:
            bases[parsed.code] = parsed
        sheets.append(parsed)
    return sheets


def pdf_pages(data: bytes) -> str:
    """Pages, as poppler's pdfinfo reads them ("?" without poppler-utils)."""
    if not shutil.which("pdfinfo"):
        return "?"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        info = subprocess.run(["pdfinfo", handle.name], capture_output=True, text=True).stdout
    return next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")


def time_weasyprint(html: str, repeat: int) -> tuple[float, float, bytes]:
    """Median and best time over ``repeat`` runs (the best shows the cost on an idle CPU)."""
    times, pdf = [], b""
    for _ in range(repeat):
        start = time.perf_counter()
        pdf = html_to_pdf(html)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), pdf


def time_chromium(html_file: Path, out: Path, repeat: int) -> float | None:
    if not Path(CHROMIUM).exists():
        return None
    times = []
    for _ in range(repeat):
        profile = tempfile.mkdtemp(prefix="bench-chromium-")
        start = time.perf_counter()
        subprocess.run(
            [
                CHROMIUM,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--print-to-pdf={out}",
                html_file.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        times.append(time.perf_counter() - start)
        shutil.rmtree(profile, ignore_errors=True)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per sheet (median is shown)")
    args = parser.parse_args()
    sheets = library()
    html_to_pdf(render_print(sheet_page(sheets[0])))  # warm up fonts and caches
    print(
        f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
        f"on {os.cpu_count()} CPUs; {args.repeat} runs per sheet, medians"
    )
    print(
        f"{'sheet':<10} {'weasyprint s':>12} {'best s':>7} {'chromium s':>11} {'ratio':>6}  pages"
    )
    ours_all, best_all, theirs_all = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-render-") as folder:
        for sheet in sheets:
            html = render_print(
                sheet_page(sheet, qr_url=f"https://example.org/sheets/{sheet.code}")
            )
            html_file = Path(folder) / f"{sheet.code}.{sheet.language}.html"
            html_file.write_text(html, encoding="utf-8")
            ours, best, pdf = time_weasyprint(html, args.repeat)
            best_all.append(best)
            theirs = time_chromium(html_file, Path(folder) / "chromium.pdf", args.repeat)
            ours_all.append(ours)
            ratio = f"{theirs / ours:5.1f}x" if theirs else "   n/a"
            shown = f"{theirs:11.3f}" if theirs else f"{'n/a':>11}"
            label = f"{sheet.code}.{sheet.language}"
            print(f"{label:<10} {ours:12.3f} {best:7.3f} {shown} {ratio}  {pdf_pages(pdf)}")
            if theirs:
                theirs_all.append(theirs)
    mean = statistics.mean(ours_all)
    print(
        f"\nWeasyPrint: mean {mean:.3f} s, max {max(ours_all):.3f} s per PDF "
        f"(target < {TARGET_SECONDS} s: {'met' if max(ours_all) < TARGET_SECONDS else 'NOT met'})"
    )
    if theirs_all:
        print(
            f"Chromium --print-to-pdf: mean {statistics.mean(theirs_all):.3f} s per PDF; "
            f"Chromium / WeasyPrint = {statistics.mean(theirs_all) / mean:.1f}x"
        )


if __name__ == "__main__":
    main()
