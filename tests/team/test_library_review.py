"""Four-eyes review over real HTTP, one route rule at a time: who may move a version, what a
draft shows to whom, the second-reviewer setting, a lowered tier, previews and the diff.

One server per module (``caresheet init`` + ``serve`` on SQLite); every test uploads its own
sheet under its own code (a copy of P586), so the tests do not see each other's versions.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from helpers import LiveServer, require

from .staff import add_staff, add_user, client_for, csrf_for, log_in

P586 = Path(__file__).resolve().parents[2] / "src" / "caresheet" / "library" / "P586.en.md"
TITLE = 'title: "Spinal Tap (Lumbar Puncture): What to Expect at Home"'
SECOND = "second.reviewer@clinic.example"
CPT = "2.16.840.1.113883.6.12"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("review")
    live = LiveServer(f"sqlite:///{folder}/caresheet.db", workdir=folder).start()
    add_staff(live)
    add_user(live.db_url, SECOND, "reviewer", live.workdir)
    yield live
    live.stop()


def sheet_text(code: str, title: str, **replace: str) -> str:
    text = P586.read_text(encoding="utf-8").replace("code: P586", f"code: {code}")
    assert TITLE in text
    text = text.replace(TITLE, f'title: "{title}"')
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def upload(client: httpx.Client, code: str, text: str) -> None:
    answer = client.post("/team/library/upload", data={"csrf_token": csrf_for(client)},
                         files={"file": (f"{code}.en.md", text.encode(), "text/markdown")})
    assert answer.status_code == 200, answer.text[-2000:]
    assert f"Imported: {code} (en)" in answer.text


def move(client: httpx.Client, code: str, version: int, status: str,
         note: str = "") -> httpx.Response:
    return client.post(f"/team/library/{code}/en/{version}/status",
                       data={"csrf_token": csrf_for(client), "status": status, "note": note})


@contextmanager
def second_reviewer(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as client:
        assert log_in(client, SECOND).status_code == 303
        yield client


def test_the_author_cannot_review_their_own_version(server: LiveServer) -> None:
    with client_for(server, "author") as author:
        upload(author, "T911", sheet_text("T911", "Four Eyes Wombat"))
        refused = move(author, "T911", 1, "reviewed")  # an author has no reviewer role
        assert refused.status_code == 400 and "only a reviewer" in refused.text
    with client_for(server, "reviewer") as reviewer:
        # A reviewer who wrote a version cannot review it either.
        upload(reviewer, "T912", sheet_text("T912", "Four Eyes Numbat"))
        own = move(reviewer, "T912", 1, "reviewed")
        assert own.status_code == 400 and "someone else must review it" in own.text
        assert move(reviewer, "T911", 1, "reviewed", "checked the doses").status_code == 303
        page = reviewer.get("/team/library/T911/en").text
    assert "Reviewed by reviewer@clinic.example on 20" in page
    assert 'class="author">author@clinic.example<' in page
    assert "moved it from draft to reviewed. Note: checked the doses" in page
    with client_for(server, "admin") as admin:  # an admin reviews too, but not their own
        assert move(admin, "T912", 1, "reviewed").status_code == 303
        upload(admin, "T917", sheet_text("T917", "Four Eyes Bilby"))
        assert move(admin, "T917", 1, "reviewed").status_code == 400
    with client_for(server, "clinician") as clinician:  # the library is not theirs at all
        assert move(clinician, "T917", 1, "reviewed").status_code == 403


def test_anonymous_sees_no_draft_anywhere(server: LiveServer) -> None:
    word = "Quokkafield"
    with client_for(server, "author") as author:
        upload(author, "T913", sheet_text("T913", f"{word} Spinal Tap"))
    public = httpx.Client(base_url=server.url, timeout=60)

    def visible() -> dict[str, bool]:
        infobutton = public.get("/infobutton", params={
            "mainSearchCriteria.v.cs": CPT, "mainSearchCriteria.v.c": "62270",
            "knowledgeResponseType": "application/json"})
        assert infobutton.status_code == 200 and "P586" in infobutton.text  # it answers
        fhir_search = public.get("/fhir/PlanDefinition", params={"_count": "100"})
        assert fhir_search.status_code == 200 and "P586" in fhir_search.text
        return {
            "page": public.get("/sheets/T913").status_code == 200,
            "pdf": public.get("/sheets/T913.pdf").status_code == 200,
            "text": public.get("/sheets/T913.txt").status_code == 200,
            "search words": "T913" in public.get("/search", params={"q": word}).text,
            "search code": "T913" in [hit["code"] for hit in public.get(
                "/api/search", params={"q": "T913"}).json()["results"]],
            "fhir read": public.get("/fhir/PlanDefinition/T913").status_code == 200,
            "fhir questionnaire": public.get("/fhir/Questionnaire/T913").status_code == 200,
            "fhir search": "T913" in fhir_search.text,
            "infobutton": "T913" in infobutton.text,
        }

    assert not any(visible().values()), visible()
    with client_for(server, "reviewer") as reviewer:
        assert move(reviewer, "T913", 1, "reviewed").status_code == 303
        assert not any(visible().values())  # reviewed is still for staff only
        assert move(reviewer, "T913", 1, "published").status_code == 303
    assert all(visible().values()), visible()
    page = public.get("/sheets/T913").text
    assert "Sample content" not in page  # reviewed by the clinic: not a sample
    public.close()


def test_a_clinician_cannot_issue_a_draft(server: LiveServer) -> None:
    with client_for(server, "author") as author:
        upload(author, "T914", sheet_text("T914", "Draft Only Bandicoot"))
    with client_for(server, "clinician") as clinician:
        assert clinician.get("/team/handouts/new", params={"code": "T914"}).status_code == 404
        form = {"csrf_token": csrf_for(clinician), "code": "T914", "language": "en",
                "param.lie_flat_hours": "2", "procedure_time": "2026-11-24T09:00",
                "zone": "America/New_York", "expires_days": "30"}
        assert clinician.post("/team/handouts", data=form).status_code == 404
        api = {"code": "T914", "language": "en", "params": {"lie_flat_hours": "2"},
               "procedure_time": "2026-11-24T09:00-05:00"}
        assert clinician.post("/api/handouts", json=api).status_code == 404
        pinned = clinician.post("/api/handouts", json={**api, "version": 1})
        assert pinned.status_code == 400 and "only a published version" in pinned.text
        # The same request for the published sample works: the refusal is the status.
        sample = clinician.post("/api/handouts", json={**api, "code": "P586"})
        assert sample.status_code == 201, sample.text


def test_a_second_reviewer_can_be_required_to_publish(server: LiveServer) -> None:
    with client_for(server, "admin") as admin:
        assert admin.post("/team/library/settings", data={
            "csrf_token": csrf_for(admin), "second_reviewer": "1"}).status_code == 303
        try:
            with client_for(server, "author") as author:
                upload(author, "T915", sheet_text("T915", "Two Reviewers Potoroo"))
            with client_for(server, "reviewer") as reviewer:
                assert move(reviewer, "T915", 1, "reviewed").status_code == 303
                same = move(reviewer, "T915", 1, "published")
                assert same.status_code == 400 and "second reviewer" in same.text
            with second_reviewer(server) as other:
                assert move(other, "T915", 1, "published").status_code == 303
        finally:
            assert admin.post("/team/library/settings", data={
                "csrf_token": csrf_for(admin)}).status_code == 303
    with client_for(server, "clinician") as clinician:  # only an admin changes the setting
        assert clinician.post("/team/library/settings", data={
            "csrf_token": csrf_for(clinician), "second_reviewer": "1"}).status_code == 403


def test_a_lowered_tier_is_shown_and_needs_a_reason(server: LiveServer) -> None:
    first = sheet_text("T916", "Tier Change Quoll")
    lowered = sheet_text("T916", "Tier Change Quoll", **{
        "  - id: severe_headache\n    tier: urgent":
            "  - id: severe_headache\n    tier: contact",
        "text: You have a very bad headache.": "text: You have a very strong headache.",
    })
    with client_for(server, "author") as author:
        upload(author, "T916", first)
    with client_for(server, "reviewer") as reviewer:
        assert move(reviewer, "T916", 1, "reviewed").status_code == 303
        assert move(reviewer, "T916", 1, "published").status_code == 303
    with client_for(server, "author") as author:
        upload(author, "T916", lowered)
    with client_for(server, "reviewer") as reviewer:
        diff = reviewer.get("/team/library/T916/en/2/diff")
        assert diff.status_code == 200
        assert "tier urgent → contact" in diff.text and "<mark>lowered</mark>" in diff.text
        assert "<del>bad</del>" in diff.text and "<ins>strong</ins>" in diff.text
        assert "Compared with version 1" in diff.text
        assert move(reviewer, "T916", 2, "reviewed").status_code == 303
        silent = move(reviewer, "T916", 2, "published")
        assert silent.status_code == 400 and "lowers the tier of severe_headache" in silent.text
        assert move(reviewer, "T916", 2, "published",
                    "Neurology agreed: strong headache alone can wait").status_code == 303


def test_staff_preview_a_draft_that_the_public_cannot_see(server: LiveServer) -> None:
    with client_for(server, "author") as author:
        upload(author, "T918", sheet_text("T918", "Preview Dunnart"))
        page = author.get("/team/library/T918/en/1/preview")
        assert page.status_code == 200 and "Preview Dunnart" in page.text
        assert "not reviewed yet. Do not give it to patients." in page.text
        pdf = author.get("/team/library/T918/en/1/preview.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        check = author.get("/team/library/T918/en/1/check",
                           params={"elapsed": "1", "a.passed_out": "yes"})
        assert check.status_code == 200
        assert 'Result: <span class="tier">emergency</span>' in check.text
        unsure = author.get("/team/library/T918/en/1/check",
                            params={"elapsed": "", "a.severe_headache": "unsure"})
        assert 'Result: <span class="tier">urgent</span>' in unsure.text
    anonymous = httpx.get(f"{server.url}/team/library/T918/en/1/preview", timeout=30)
    assert anonymous.status_code in (302, 303, 401) and "Preview Dunnart" not in anonymous.text
    with client_for(server, "clinician") as clinician:
        assert clinician.get("/team/library/T918/en/1/preview").status_code == 403


def test_the_translation_status_page_lists_missing_and_current(server: LiveServer) -> None:
    with client_for(server, "author") as author:
        upload(author, "T919", sheet_text("T919", "No Spanish Yet Kowari"))
        page = author.get("/team/library/translations")
    assert page.status_code == 200
    assert '<tr class="translation-current"><td><a href="/team/library/P586/en">P586' in page.text
    assert '<tr class="translation-missing"><td><a href="/team/library/T919/en">' in page.text


def test_every_page_of_a_sample_says_so_in_the_readers_language(
    server: LiveServer, tmp_path: Path
) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as public:
        english = public.get("/sheets/P586").text
        spanish = public.get("/sheets/P586", params={"lang": "es"}).text
        text = public.get("/sheets/P586.txt").text
        pdf = public.get("/sheets/P586.pdf", params={"lang": "es"}).content
    assert "Sample content — not reviewed for patient use" in english
    assert "Contenido de muestra — no revisado para uso con pacientes" in spanish
    assert "Sample content — not reviewed for patient use" in text
    require(shutil.which("pdftotext"), "poppler-utils")
    path = tmp_path / "sample.pdf"
    path.write_bytes(pdf)
    words = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                           check=True).stdout
    assert "Contenido de muestra" in " ".join(words.split())
