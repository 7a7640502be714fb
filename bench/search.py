"""Search benchmark: a synthetic library of 50,000 sheets, imported and queried on SQLite,
PostgreSQL (when CARESHEET_TEST_POSTGRES_URL is set) and tantivy as the baseline.

    .venv/bin/python bench/search.py                 # 50,000 sheets, 1,000 queries
    .venv/bin/python bench/search.py --sheets 2000   # a quick run

The sheets are built from the shipped library's own sentences, around made-up procedure names
(so titles, aliases and codes are unique), 400 to 900 words of body each, like the real ones,
plus made-up medicine, clinic and town names from a 40,000-word lexicon with a Zipf-like
spread, so the dictionary is as big as a real library's and most words are rare.
They are pydantic ``Sheet`` objects made with ``model_construct`` (no validation: the sheets
are well formed by construction, and validating 50,000 would time pydantic, not search).

Printed: import time per store, then p50/p95/p99 latency of the same 1,000 queries for
- ``search() cold, no read-ahead``: the whole pipeline a user waits for (code and
  clinical-code look-ups, typo correction, lay-word expansion, full-text ranking, snippets),
  each query asked for the first time (the cache of answers emptied before it), in a process
  that has answered only the 50 warm-up queries: every impact list is read from FTS5 when a
  query first needs it, and kept;
- ``search() cold``: the same, every list dropped first, then read ahead as a server does at
  start and after each change to the index (``caresheet.search.warming``): the lists of the
  head terms, lay phrases and every word in 32 sheets or more (but not common) are in
  memory; those of rarer words and of phrases typed word for word are read when first
  needed;
- ``search() warm lists``: the same again, every answer a miss but every impact list in memory;
- ``search() + snippets``: the same again, and every hit's snippet read, as a results page
  does (a hit reads its sheet's text and makes its snippet when first read; the picker and
  the Infobutton never do);
- ``search() cached``: the same queries once more after they were all answered once: every one
  a hit in the frequent-query cache (keyed by the index's change counter);
- ``index``: only the full-text query of the planned phrases, which is what tantivy does;
- tantivy: the same phrases, the same analyzed fields and weights, in memory (RAM index),
  each query run on it right after ours in every pass, so both see the same load.
Ratios are ours / tantivy's; below 1.0 means faster than tantivy. The targets (issue 15):
the index p95 <= tantivy's, the cold ``search()`` p95 <= 2x tantivy's. Other people's load
moves every figure, so only ratios within one run mean much; the load average is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import text

from caresheet import search
from caresheet.authoring import parse
from caresheet.library import LIBRARY_DIR
from caresheet.model.sheet import (
    ClinicalCode,
    Group,
    Paragraph,
    Section,
    SectionKind,
    Sheet,
    Status,
    Step,
    StepList,
)
from caresheet.search import cache as search_cache
from caresheet.search import impacts, warming
from caresheet.search import index as search_index
from caresheet.store.db import Store

SEED = 586
QUERIES = 1000
BATCH = 1000
WEIGHTS = {"t_title": 10.0, "t_aliases": 6.0, "t_keywords": 4.0, "t_body": 1.0}

ROOTS = ["gastro", "cardio", "neuro", "arthro", "broncho", "cysto", "colono", "hystero",
         "laryngo", "nephro", "osteo", "procto", "rhino", "thoraco", "uretero", "vaso",
         "angio", "chole", "derma", "encephalo", "hepato", "lapar", "myelo", "oto", "pyelo"]
SUFFIXES = ["scopy", "plasty", "ectomy", "otomy", "ostomy", "graphy", "centesis", "pexy",
            "rrhaphy", "tripsy"]
PLACES = ["knee", "hip", "shoulder", "wrist", "ankle", "neck", "back", "chest", "belly",
          "bladder", "kidney", "colon", "stomach", "throat", "nose", "ear", "eye", "skin",
          "heart", "lung", "liver", "spine", "jaw", "foot", "hand", "elbow", "breast",
          "thyroid", "sinus", "vein"]
MODIFIERS = ["", "left", "right", "upper", "lower", "minor", "open", "keyhole", "laser",
             "needle", "camera", "outpatient", "day", "repeat", "follow-up"]
LAY = ["test", "scope", "surgery", "repair", "shot", "check", "procedure", "operation",
       "camera test", "needle test"]


# ---------------------------------------------------------------- the synthetic library


def library_sentences() -> list[str]:
    """Every patient-facing sentence of the shipped English sheets."""
    found: list[str] = []
    for path in sorted(LIBRARY_DIR.glob("*.en.md")):
        sheet = parse.read_file(path).sheet
        found += [t for p, t in sheet.texts() if p != ("title",) and "{{" not in t]
    return found


def procedure(i: int) -> tuple[str, str, str]:
    """A unique made-up procedure for sheet i: (clinical name, place, lay name)."""
    root = ROOTS[i % len(ROOTS)]
    suffix = SUFFIXES[(i // len(ROOTS)) % len(SUFFIXES)]
    place = PLACES[(i // (len(ROOTS) * len(SUFFIXES))) % len(PLACES)]
    modifier = MODIFIERS[(i // (len(ROOTS) * len(SUFFIXES) * len(PLACES))) % len(MODIFIERS)]
    clinical = f"{modifier} {place} {root}{suffix}".strip()
    lay = f"{place} {LAY[i % len(LAY)]}"
    return clinical, place, lay


SYLLABLES = ["ka", "lo", "mi", "ren", "to", "sa", "vel", "dor", "ni", "pra", "cu", "zen",
             "fo", "tri", "bel", "ox", "ma", "sil", "quin", "ter"]
LEXICON_SIZE = 40_000


def lexicon_word(n: int) -> str:
    """The n-th made-up word (medicine, clinic and town names): a vocabulary as big as a
    real library's, used with a Zipf-like spread so a few are common and most are rare."""
    word = ""
    n += len(SYLLABLES) ** 2  # at least three syllables
    while n:
        n, r = divmod(n, len(SYLLABLES))
        word += SYLLABLES[r]
    return word


def zipf_rank(rng: random.Random) -> int:
    """A rank in the lexicon, log-uniform (Zipf with s = 1): rank 10 is ten times as likely
    as rank 100."""
    return int(LEXICON_SIZE ** rng.random()) - 1


def rare_words(rng: random.Random, count: int) -> list[str]:
    return [lexicon_word(zipf_rank(rng)) for _ in range(count)]


def make_sheet(i: int, sentences: Sequence[str]) -> Sheet:
    rng = random.Random(SEED * 1_000_003 + i)
    clinical, place, lay = procedure(i)
    name = clinical.title()
    names = rare_words(rng, 12)
    extra = [
        f"Your doctor may give you {names[0]}, {names[1]} or {names[2]} for pain.",
        f"Do not take {names[3]} or {names[4]} until your doctor says it is okay.",
        f"Your care team at {names[5].title()} Clinic in {names[6].title()} can help.",
        f"Ask about {names[7]}, {names[8]}, {names[9]}, {names[10]} and {names[11]}.",
    ]

    def some(low: int, high: int) -> list[str]:
        picked = rng.sample(sentences, rng.randint(low, high))
        return [s.replace("the test", f"the {clinical}").replace("your procedure",
                                                                  f"your {clinical}")
                for s in picked]

    sections = (
        Section.model_construct(
            kind=SectionKind.RECOVERY, heading="Your recovery",
            blocks=tuple(Paragraph.model_construct(text=t) for t in
                         [f"A {clinical} is a procedure on your {place}.", *some(3, 8)]),
            groups=(),
        ),
        Section.model_construct(
            kind=SectionKind.HOME_CARE, heading="How can you care for yourself at home?",
            blocks=(),
            groups=tuple(
                Group.model_construct(heading=heading, blocks=(StepList.model_construct(
                    steps=tuple(Step.model_construct(text=t, steps=()) for t in some(4, 10))),))
                for heading in ("Activity", "Diet", "Medicines", "Care of the area")
            ),
        ),
        Section.model_construct(
            kind=SectionKind.FOLLOW_UP, heading="Follow-up care is a key part of your treatment",
            blocks=tuple(Paragraph.model_construct(text=t) for t in [*some(2, 5), *extra]),
            groups=(),
        ),
    )
    return Sheet.model_construct(
        code=f"B{i:05d}", language="en", title=f"{name}: What to Expect at Home", version=1,
        status=Status.DRAFT, aliases=(clinical, lay, f"{place} {ROOTS[i % len(ROOTS)]}"),
        keywords=(f"{place} care", f"after {lay}", rng.choice(PLACES)),
        clinical_codes=(ClinicalCode.model_construct(system="cpt", code=f"9{i:05d}",
                                                     display=None),),
        params={}, findings={}, expected=(), milestones=(), rules=(), sections=sections,
    )


def synthetic_sheets(count: int) -> Iterator[Sheet]:
    sentences = library_sentences()
    for i in range(count):
        yield make_sheet(i, sentences)


def make_queries(count: int, sheets: int) -> list[str]:
    """A fixed mix: codes, clinical and lay names, common and rare words, typos, questions,
    CPT codes."""
    rng = random.Random(SEED)
    words = [w for s in library_sentences() for w in s.lower().split() if w.isalpha()]
    mix: list[str] = []
    for n in range(count):
        i = rng.randrange(sheets)
        clinical, _, lay = procedure(i)
        kind = n % 10
        if kind == 0:
            mix.append(f"B{i:05d}" if n % 20 else f"b {i:05d}")
        elif kind in (1, 2):
            mix.append(clinical)
        elif kind == 3:
            mix.append(lay)
        elif kind == 4:
            mix.append(rng.choice(words))
        elif kind == 5:
            mix.append(lexicon_word(zipf_rank(rng)))
        elif kind == 6:
            mix.append(" ".join(rng.sample(words, 2)))
        elif kind == 7:
            word = clinical.split()[-1]
            cut = rng.randrange(1, len(word) - 1)
            mix.append(word[:cut] + word[cut + 1 :])  # a letter left out: a typo
        elif kind == 8:
            mix.append(f"what to do after a {clinical}")
        else:
            mix.append(f"9{i:05d}")
    return mix


# ---------------------------------------------------------------- import


def progress(done: int, total: int, started: float) -> None:
    """A bar redrawn in place on a terminal; every tenth of the way in a log."""
    tty = sys.stdout.isatty()
    step = max(1, total // 10)
    if not tty and done != total and done % step >= BATCH:
        return
    width = 30
    filled = int(width * done / total)
    bar = "#" * filled + "." * (width - filled)
    end = "\n" if done == total or not sys.stdout.isatty() else ""
    sys.stdout.write(f"\r  [{bar}] {done:>6}/{total} {time.perf_counter() - started:6.1f} s{end}")
    sys.stdout.flush()


def import_store(store: Store, count: int) -> float:
    """Insert sheet versions and index them in batches; returns the seconds spent storing and
    indexing (making the synthetic sheets is not counted: a real import reads files instead)."""
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    spent = 0.0
    batch: list[Sheet] = []
    done = 0

    def flush(session: Any) -> None:
        nonlocal done, spent
        if not batch:
            return
        flush_started = time.perf_counter()
        first_id = done + 1
        session.execute(
            text(
                "INSERT INTO sheet_versions (id, code, language, version, status, title, "
                "content_hash, source_text, document, imported_at) VALUES (:id, :code, "
                ":language, 1, 'draft', :title, :hash, '', :document, :now)"
            ),
            [{"id": first_id + k, "code": s.code, "language": s.language, "title": s.title,
              "hash": f"{first_id + k:064d}", "document": '{"synthetic": true}', "now": now}
             for k, s in enumerate(batch)],
        )
        documents = [search_index.document_for(s, first_id + k) for k, s in enumerate(batch)]
        search_index.bulk_index(session, documents)
        done += len(batch)
        batch.clear()
        spent += time.perf_counter() - flush_started
        progress(done, count, started)

    with store.session() as session:
        for sheet in synthetic_sheets(count):
            batch.append(sheet)
            if len(batch) >= BATCH:
                flush(session)
        flush(session)
        commit_started = time.perf_counter()
        search_index.optimize(session)
    spent += time.perf_counter() - commit_started
    return spent


# ---------------------------------------------------------------- timing


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


def timed(run: Callable[[str], Any], queries: Sequence[str]) -> list[float]:
    samples = []
    for query in queries:
        started = time.perf_counter()
        run(query)
        samples.append(time.perf_counter() - started)
    return samples


def timed_pair(ours: Callable[[str], Any], theirs: Callable[[str], Any],
               queries: Sequence[str]) -> tuple[list[float], list[float]]:
    """Each query timed on ours and at once on tantivy: a load that comes and goes (other
    people share the machine) weighs on both sides of a ratio alike."""
    mine: list[float] = []
    base: list[float] = []
    for query in queries:
        started = time.perf_counter()
        ours(query)
        middle = time.perf_counter()
        theirs(query)
        mine.append(middle - started)
        base.append(time.perf_counter() - middle)
    return mine, base


Planned = dict[str, search.Plan | None]
# label -> (p50, p95, p99 in ms; tantivy's p95 over the same queries in the same pass)
Rows = dict[str, tuple[float, float, float, float]]


def plans(store: Store, queries: Sequence[str]) -> Planned:
    """The phrases each query becomes (typos corrected, lay words expanded, common words
    focused on titles, aliases and keywords): the same input for our index and tantivy."""
    planned: Planned = {}
    with store.session(write=False) as session:
        dictionary = search.term_dictionary(session)
        for query in queries:
            words = search.words(search.clean(query))[: search.MAX_WORDS]
            planned[query] = (
                search.plan_query(words, None, dictionary, search.vocabulary()) if words else None
            )
    return planned


def bench_store(label: str, store: Store, queries: Sequence[str], planned: Planned,
                tantivy: Callable[[str], Any], paired: list[float]) -> Rows:
    """Our passes, each query paired with tantivy's run of it (its samples go to ``paired``)."""
    results: Rows = {}

    def row(name: str, samples: tuple[list[float], list[float]]) -> None:
        ours, theirs = samples
        paired.extend(theirs)
        results[f"{label} {name}"] = (*percentiles(ours), percentiles(theirs)[1])

    with store.session(write=False) as session:
        for query in queries[:50]:  # warm the dictionary, as tantivy is warmed
            search.search(session, query)

        def uncached(query: str) -> search.Results:
            search_cache.clear()
            return search.search(session, query, limit=10)

        def shown(query: str) -> list[str]:
            return [str(hit.snippet) for hit in uncached(query).hits]

        row("search() cold, no read-ahead", timed_pair(uncached, tantivy, queries))
        impacts.clear()  # as a server starts: nothing read but what it reads ahead
        started = time.perf_counter()
        entries = warming.warm(session)
        print(f"  read ahead: {entries:,} list entries in {time.perf_counter() - started:.2f} s")
        row("search() cold", timed_pair(uncached, tantivy, queries))
        row("search() warm lists", timed_pair(uncached, tantivy, queries))
        row("search() + snippets", timed_pair(shown, tantivy, queries))
        search_cache.clear()
        for query in queries:  # every answer into the cache (it holds more than 1,000)
            search.search(session, query, limit=10)
        answers = search_cache.answers_for(session)
        kept = len(answers) if answers is not None else 0
        distinct = len({search.clean(q) for q in queries if search.clean(q)})
        if kept != distinct:
            print(f"  warning: {kept} answers cached of {distinct} distinct queries")
        row("search() cached",
            timed_pair(lambda q: search.search(session, q, limit=10), tantivy, queries))
        row("index", timed_pair(
            lambda q: search.rank(session, planned[q], None, 10) if planned[q] else [],
            tantivy, queries))
    return results


def bench_tantivy(count: int, queries: Sequence[str],
                  planned: Planned) -> tuple[float, Callable[[str], Any]]:
    """tantivy's index of the same sheets (seconds to build it) and its run of a query."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    for field in WEIGHTS:
        builder.add_text_field(field, stored=False)
    builder.add_text_field("code", stored=True, tokenizer_name="raw")
    schema = builder.build()
    index = tantivy.Index(schema)  # in memory
    started = time.perf_counter()
    writer = index.writer(heap_size=200_000_000, num_threads=1)
    seconds = 0.0
    for n, sheet in enumerate(synthetic_sheets(count), start=1):
        added = time.perf_counter()
        document = search_index.document_for(sheet, n)
        writer.add_document(tantivy.Document(
            code=document.code, t_title=document.t_title, t_aliases=document.t_aliases,
            t_keywords=document.t_keywords, t_body=document.t_body))
        seconds += time.perf_counter() - added
        if n % BATCH == 0 or n == count:
            progress(n, count, started)
    committed = time.perf_counter()
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    seconds += time.perf_counter() - committed
    searcher = index.searcher()

    def any_of(phrases: Sequence[tuple[str, ...]], focused: frozenset[tuple[str, ...]]) -> Any:
        clauses = []
        for phrase in phrases:
            for field, weight in WEIGHTS.items():
                if field == "t_body" and phrase in focused:
                    continue
                inner = (tantivy.Query.term_query(schema, field, phrase[0]) if len(phrase) == 1
                         else tantivy.Query.phrase_query(schema, field, list(phrase)))
                clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(inner, weight)))
        return tantivy.Query.boolean_query(clauses)

    def run(query: str) -> Any:
        # The same strategy as search.rank: every idea first, then any idea, then unfocused.
        plan = planned[query]
        if plan is None or not plan.phrases:
            return []
        if len(plan.groups) > 1:
            every = tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, any_of(g, plan.focused)) for g in plan.groups])
            hits = searcher.search(every, limit=10, count=False).hits
            if hits:
                return hits
        hits = searcher.search(any_of(plan.phrases, plan.focused), limit=10, count=False).hits
        if not hits and plan.focused:
            hits = searcher.search(any_of(plan.phrases, frozenset()), limit=10, count=False).hits
        return hits

    for query in queries[:50]:
        run(query)
    return seconds, run


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sheets", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=QUERIES)
    args = parser.parse_args()
    queries = make_queries(args.queries, args.sheets)
    print(f"caresheet search benchmark: {args.sheets:,} sheets, {len(queries):,} queries "
          f"({len(set(queries)):,} distinct); load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores")
    rows: Rows = {}
    imports: dict[str, float] = {}
    paired: list[float] = []
    with tempfile.TemporaryDirectory(prefix="caresheet-bench-") as folder:
        store = Store.open(f"sqlite:///{folder}/bench.db")
        print("SQLite import")
        imports["SQLite"] = import_store(store, args.sheets)
        size = Path(folder, "bench.db").stat().st_size / 1e6
        print(f"  {imports['SQLite']:.1f} s storing and indexing "
              f"({args.sheets / imports['SQLite']:,.0f} sheets/s), database {size:,.0f} MB")
        planned = plans(store, queries)
        print("tantivy import (same analyzed fields, in memory)")
        imports["tantivy"], tantivy = bench_tantivy(args.sheets, queries, planned)
        print(f"  {imports['tantivy']:.1f} s")
        print(f"SQLite queries, each paired with tantivy's (load average "
              f"{os.getloadavg()[0]:.2f})")
        rows.update(bench_store("SQLite", store, queries, planned, tantivy, paired))
        store.close()
    admin = os.environ.get("CARESHEET_TEST_POSTGRES_URL", "").strip()
    if admin:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from helpers import fresh_postgres_database

        with fresh_postgres_database(admin) as url:
            store = Store.open(url)
            print("PostgreSQL import")
            imports["PostgreSQL"] = import_store(store, args.sheets)
            print(f"  {imports['PostgreSQL']:.1f} s")
            rows.update(bench_store("PostgreSQL", store, queries, planned, tantivy, []))
            store.close()
    else:
        print("PostgreSQL: skipped (set CARESHEET_TEST_POSTGRES_URL to include it)")

    tantivy_row = percentiles(paired)
    print(f"\n{'latency (ms)':<38}{'p50':>8}{'p95':>8}{'p99':>8}"
          f"   tantivy p95 (same pass)   p95 / tantivy p95")
    for label, (p50, p95, p99, base) in rows.items():
        ratio = p95 / base if base else float("nan")
        print(f"{label:<38}{p50:>8.2f}{p95:>8.2f}{p99:>8.2f}   {base:>23.2f}   {ratio:>17.2f}")
    print(f"{'tantivy (the SQLite passes)':<38}{tantivy_row[0]:>8.2f}{tantivy_row[1]:>8.2f}"
          f"{tantivy_row[2]:>8.2f}")

    def ratio(label: str) -> float:
        return rows[label][1] / rows[label][3] if rows[label][3] else float("nan")

    index, cold = ratio("SQLite index"), ratio("SQLite search() cold")
    print(f"\nratios (p95, paired): SQLite index / tantivy {index:.2f} (target <= 1); "
          f"SQLite search() cold / tantivy {cold:.2f} (target <= 2); "
          f"SQLite search() + snippets / tantivy {ratio('SQLite search() + snippets'):.2f}; "
          f"SQLite search() cached / tantivy {ratio('SQLite search() cached'):.2f}")
    print(f"targets: SQLite index p95 <= tantivy p95: {'yes' if index <= 1 else 'NO'}; "
          f"SQLite search() cold p95 <= 2x tantivy p95: {'yes' if cold <= 2 else 'NO'}; "
          f"SQLite import < 60 s: {'yes' if imports['SQLite'] < 60 else 'NO'}")
    print(f"load average over 1, 5, 15 min at the end: "
          f"{', '.join(f'{n:.2f}' for n in os.getloadavg())} ({os.cpu_count()} cores)")

if __name__ == "__main__":
    main()
