"""How long one P586 symptom check takes, next to the same rules written by hand.

Run: .venv/bin/python bench/triage.py [--runs 100000]

Prints microseconds per check for several answer mixes (the full ``triage`` call: reading
the answers, evaluating every rule three-valued, building the Disposition) and, in the same
process, a hand-coded if/else version of P586's rules as the baseline for a ratio. The
target is under 50 µs per check; this prints figures, not pass or fail.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

from caresheet.authoring.parse import read_file
from caresheet.care.triage import triage
from caresheet.model.sheet import Sheet

P586 = Path(__file__).resolve().parent.parent / "src" / "caresheet" / "library" / "P586.en.md"

MIXES: dict[str, tuple[dict[str, str], float | None]] = {
    "nothing wrong, day 1": (
        {name: "no" for name in ("passed_out", "fever", "severe_headache", "site_drainage",
                                 "numb_or_weak", "headache", "sore_back")},
        20.0,
    ),
    "headache at 2 days (contact)": ({"headache": "yes", "sore_back": "no"}, 48.0),
    "fever and stiff neck (urgent)": ({"fever": "yes", "stiff_neck": "yes"}, 30.0),
    "passed out, time unknown": ({"passed_out": "yes", "headache": "yes"}, None),
    "all unsure, time unknown": (
        {name: "unsure" for name in ("passed_out", "fever", "stiff_neck", "severe_headache",
                                     "site_drainage", "numb_or_weak", "headache", "sore_back")},
        None,
    ),
}

_TRUTH = {"yes": True, "no": False, "unsure": None}


def hand_coded(answers: Mapping[str, str], elapsed: float | None) -> str:
    """P586's rules as a programmer would write them by hand: the baseline, tier only."""

    def maybe(name: str) -> bool:  # unsure counts as yes; not asked counts as no
        return _TRUTH.get(answers.get(name, "no"), False) is not False

    if maybe("passed_out"):
        return "emergency"
    if (maybe("fever") and maybe("stiff_neck")) or maybe("severe_headache") or maybe(
        "site_drainage"
    ) or maybe("numb_or_weak"):
        return "urgent"
    if (maybe("headache") or maybe("sore_back")) and (elapsed is None or elapsed >= 48):
        return "contact"
    return "self_care"


def per_run_ns(check: Callable[[], object], runs: int) -> float:
    """Nanoseconds per call, the best of 3 rounds (the least disturbed by other work)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter_ns()
        for _ in range(runs):
            check()
        best = min(best, (time.perf_counter_ns() - start) / runs)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000, help="calls per round (3 rounds)")
    runs = parser.parse_args().runs
    sheet: Sheet = read_file(P586).sheet
    params = {"clinic_phone": "555-0100"}
    print(f"P586 triage, {runs:,} runs per round, best of 3 rounds")
    print(f"{'answer mix':34} {'triage µs':>10} {'hand-coded µs':>14} {'ratio':>7}")
    total_triage = total_hand = 0.0
    for name, (answers, elapsed) in MIXES.items():
        assert triage(sheet, answers, elapsed, params).tier.value == hand_coded(answers, elapsed)
        ours = per_run_ns(partial(triage, sheet, answers, elapsed, params), runs) / 1000
        hand = per_run_ns(partial(hand_coded, answers, elapsed), runs) / 1000
        total_triage, total_hand = total_triage + ours, total_hand + hand
        print(f"{name:34} {ours:10.2f} {hand:14.3f} {ours / hand:7.0f}x")
    count = len(MIXES)
    print(f"{'mean':34} {total_triage / count:10.2f} {total_hand / count:14.3f} "
          f"{total_triage / total_hand:7.0f}x")
    print("ratio to hand-coded rules = triage µs / hand-coded µs (target: triage under 50 µs)")


if __name__ == "__main__":
    main()
