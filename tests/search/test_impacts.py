"""Top-k from impact lists: the same documents, in the same order, as FTS5 ranking every
match; deep enough when the tops of the lists are not enough; and never stale when another
process (another ``Store``: its own lists) changes the index.

SQLite only: PostgreSQL ranks in SQL (``ts_rank_cd``) and keeps no lists.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest

from caresheet import search
from caresheet.search import cache as search_cache
from caresheet.search import impacts
from caresheet.search import match as search_match
from caresheet.store.db import Store
from helpers import publish_files, retitled_p586

RELEVANCE = Path(__file__).with_name("relevance.tsv")


def _made(pairs: list[tuple[int, float]]) -> impacts.ImpactList:
    return impacts.ImpactList.of(pairs)


def _scores(found: impacts.ImpactList) -> dict[int, float]:
    return dict(zip(found.ids.tolist(), found.scores.tolist(), strict=True))


def _summed(lists: list[impacts.ImpactList], limit: int) -> list[tuple[int, float]]:
    """The answer by brute force: every document of every list, summed in Python."""
    total: dict[int, float] = {}
    for found in lists:
        for doc, score in _scores(found).items():
            total[doc] = total.get(doc, 0.0) + score
    return sorted(total.items(), key=lambda p: (-p[1], p[0]))[:limit]


def test_top_any_finds_a_document_high_in_no_list_but_first_in_sum() -> None:
    # Document 999 is low in both lists, yet its sum beats them all.
    first = _made([(n, 10.0 - n / 100) for n in range(200)] + [(999, 9.0)])
    second = _made([(n + 1000, 10.0 - n / 100) for n in range(200)] + [(999, 9.0)])
    best = impacts.top_any([first, second], 3)
    assert best == _summed([first, second], 3) and best[0][0] == 999


def test_top_all_keeps_only_documents_in_every_group() -> None:
    rare = _made([(1, 1.0), (2, 5.0)])
    common = _made([(n, 0.5) for n in range(3, 500)] + [(2, 0.1)])
    other = _made([(1, 0.2)])
    assert impacts.top_all([[rare], [common, other]], 10) == [(2, 5.1), (1, 1.2)]
    assert impacts.top_all([[rare], [_made([(7, 1.0)])]], 10) == []


def _brute_all(groups: list[list[impacts.ImpactList]], limit: int) -> list[tuple[int, float]]:
    """AND of ORs by brute force: documents in some list of every group, summed over all."""
    inside = set.intersection(*({d for found in group for d in found.ids.tolist()}
                                for group in groups))
    everything = [_scores(found) for group in groups for found in group]
    total = {doc: sum(found.get(doc, 0.0) for found in everything) for doc in inside}
    return sorted(total.items(), key=lambda p: (-p[1], p[0]))[:limit]


@pytest.mark.parametrize("seed", range(40))
def test_top_any_and_top_all_equal_brute_force_with_many_ties(seed: int) -> None:
    # Scores from a few values, so long runs of equal scores (titles of one length) are
    # common: ties are settled by id, as bm25 order is, also at the limit.
    rng = random.Random(seed)
    lists = [
        _made([(doc, rng.choice([0.5, 1.0, 1.0, 2.5])) for doc in
               rng.sample(range(3000), rng.randint(0, rng.choice([5, 60, 900])))])
        for _ in range(rng.randint(1, 7))
    ]
    for limit in (1, 3, 10):
        assert impacts.top_any(lists, limit) == _summed(lists, limit)
        groups = [lists[: len(lists) // 2 + 1], lists[len(lists) // 2 :]]
        assert impacts.top_all(groups, limit) == _brute_all(groups, limit)


def _fts5_top(store: Store, plan: search.Plan, language: str | None) -> list[tuple[int, float]]:
    """What FTS5 itself ranks first for the plan's phrases (scoring every match), with the
    language filter in the query: its bm25() to the last bit."""
    expression = search_match.fts5_expression(plan.phrases, language)
    with store.session(write=False) as session:
        rows = search_match.fetch(
            session, "SELECT rowid, rank FROM search_fts WHERE search_fts MATCH :q "
            "ORDER BY rank, rowid LIMIT 10", {"q": expression})
    return [(row[0], max(-float(row[1]), 1e-9)) for row in rows]


def _relevance_plans(session: Any) -> list[tuple[str, Any]]:
    """Each query of the relevance table that has words, with the search plan made for it."""
    queries = [line.split("\t")[0] for line in RELEVANCE.read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    dictionary = search.term_dictionary(session)
    plans = []
    for query in queries:
        words = search.words(search.clean(query))
        if words:
            plans.append((query, search.plan_query(words, None, dictionary,
                                                   search.vocabulary())))
    return plans


def test_the_lists_rank_as_fts5_does_for_every_relevance_query(store: Store) -> None:
    compared = 0
    with store.session(write=False) as session:
        for query, plan in _relevance_plans(session):
            if not plan.phrases:
                continue
            for language in (None, "en", "es"):
                ours = search_match.match(session, plan.phrases, language, 10)
                assert ours == _fts5_top(store, plan, language), (query, language)
                compared += 1
    assert compared > 100


def _okapi(store: Store) -> list[str]:
    search_cache.clear()  # the answer cache is tested elsewhere: here only the lists speak
    with store.session(write=False) as session:
        scored = search_match.match(session, [("okapi",)], None, 10)
        return [d.code for d in search_match.documents(session, [d for d, _ in scored]).values()]


def test_another_process_changing_the_index_is_seen_at_once(
    store: Store, sqlite_url: str, tmp_path: Path
) -> None:
    """Two Stores on one file are two processes' pools: each keeps its own lists."""
    assert _okapi(store) == []  # the list of "okapi" is kept, empty
    publish_files(sqlite_url, [retitled_p586(tmp_path, "Spinal Tap: Okapi Edition")])
    assert _okapi(store) == ["P586"]


def test_a_tie_at_the_limit_goes_to_the_lower_id() -> None:
    # Document 5 is last in its list yet ties document 9000 for the last place of the
    # answer, so it must come first: ids break ties.
    first = _made([(n + 100, 2.0) for n in range(32)] + [(5, 1.0)])
    second = _made([(9000, 1.0)])
    assert impacts.top_any([first, second], 33) == _summed([first, second], 33)
    assert impacts.top_any([first, second], 33)[-1] == (5, 1.0)


def test_an_and_query_ranks_the_same_from_fts5_as_from_the_lists(store: Store) -> None:
    """Lists not yet in memory: FTS5 ranks the AND itself (the language filter in its
    query); once they are, the lists do (the filter a mask over their sums). The two give
    the same documents with the same scores, for every relevance query."""
    compared = 0
    with store.session(write=False) as session:
        plans = [plan for _query, plan in _relevance_plans(session) if len(plan.groups) > 1]
        for plan, language in itertools.product(plans, (None, "en", "es")):
            for focused in (plan.focused, frozenset()):
                impacts.clear()
                cold = search_match.match_all(session, plan.groups, language, 10, focused)
                table = "search_head" if focused else "search_fts"
                reader = impacts.Reader(session, search_match.generation(session))
                for phrase in (p for group in plan.groups for p in group):
                    reader.impact_list(table, "rank",
                                       search_match.fts5_expression([phrase], None))
                assert search_match.match_all(session, plan.groups, language, 10,
                                              focused) == cold
                compared += bool(cold)
    assert compared >= 20


def test_a_list_is_read_whole_only_when_a_second_query_wants_it(store: Store) -> None:
    impacts.clear()
    with store.session(write=False) as session:
        groups = [[("spinal",)], [("headache",)]]
        expression = search_match.fts5_expression([("spinal",)], None)
        first = search_match.match_all(session, groups, None, 10)
        reader = impacts.Reader(session, search_match.generation(session))
        assert first and reader.kept("search_fts", "rank", expression) is None  # FTS5 ranked it
        assert search_match.match_all(session, groups, None, 10) == first
        assert reader.kept("search_fts", "rank", expression) is not None  # read and kept
