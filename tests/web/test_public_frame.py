"""The page frame every web engineer builds on: home page, chrome, fonts, health, language."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from asgi_client import AppClient
from caresheet.web.app import create_app
from caresheet.web.deps import accepted_languages, supported_language

EMERGENCY_LINE = "If you think it could be an emergency, call 911 at any time."


@pytest.fixture
def client(sqlite_url: str) -> Iterator[AppClient]:
    with AppClient(create_app(sqlite_url)) as test_client:
        yield test_client


def test_home_has_one_labelled_search_box_and_the_911_line(client: AppClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert html.count("<input id=\"q\"") == 1
    assert '<label for="q">Search by care sheet code or words</label>' in html
    assert 'action="/search"' in html and 'method="get"' in html
    assert EMERGENCY_LINE in html
    assert '<a class="skip" href="#main">' in html
    assert "<script" not in html


def test_home_in_spanish_by_query_or_browser(client: AppClient) -> None:
    assert '<html lang="es">' in client.get("/?lang=es").text
    spanish = client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}).text
    assert '<html lang="es">' in spanish
    assert "llame al 911 en cualquier momento" in spanish
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "fr, de"}).text


def test_healthz_checks_the_database(client: AppClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "sqlite"}


def test_stylesheet_and_font_are_served_from_the_app(client: AppClient) -> None:
    css = client.get("/static/caresheet.css")
    assert css.status_code == 200
    assert "/static/fonts/AtkinsonHyperlegible-Regular.ttf" in css.text
    assert "http://" not in css.text and "https://" not in css.text
    font = client.get("/static/fonts/AtkinsonHyperlegible-Regular.ttf")
    assert font.status_code == 200
    assert font.content[:4] == b"\x00\x01\x00\x00"  # a TrueType file


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-MX,es;q=0.9,en;q=0.8", ["es-MX", "es", "en"]),
        ("en;q=0.2, es;q=0.8", ["es", "en"]),
        ("es;q=0, en", ["en"]),
        ("", []),
        ("en;q=abc, es", ["es"]),
    ],
)
def test_accept_language_order(header: str, expected: list[str]) -> None:
    assert accepted_languages(header) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("es", "es"), ("ES", "es"), ("es-MX", "es"), ("sp", None), ("fr", None), ("", None)],
)
def test_supported_language(value: str, expected: str | None) -> None:
    assert supported_language(value) == expected
