"""The access log's redaction: a handout token never reaches a log line, however it is wrapped."""

from __future__ import annotations

import logging

import pytest

from caresheet.web.security import RedactTokens, redact

TOKEN = "k3Jd9sLq0ZxW2vBn8MtR5yHc7PfA1eGu4oIi6UlSaaa"


@pytest.mark.parametrize("path", [
    f"/h/{TOKEN}", f"/h/{TOKEN}/check?x=1", f"/api/handouts/{TOKEN}/events",
    f"/h/%E2%80%8B{TOKEN}", f"/h/%20{TOKEN}", f"/h/.{TOKEN}", f"/H/{TOKEN}",
    f"/h/\u200b{TOKEN}", f"//h/{TOKEN}",
])
def test_a_token_is_redacted_whatever_comes_before_it(path: str) -> None:
    line = f'127.0.0.1:5000 - "GET {path} HTTP/1.1" 200'
    assert TOKEN not in redact(line)
    assert "<token>" in redact(line)


def test_the_filter_redacts_the_access_log_arguments() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "GET", f"/h/%E2%80%8B{TOKEN}", "1.1", 404), None)
    RedactTokens().filter(record)
    assert TOKEN not in record.getMessage()


def test_other_paths_are_left_alone() -> None:
    assert redact("/sheets/P586?lang=es") == "/sheets/P586?lang=es"
    assert redact("/help/x") == "/help/x"


def test_a_smart_callback_s_code_and_state_are_left_out() -> None:
    line = '127.0.0.1:5000 - "GET /smart/callback?code=abc-123&state=xyz HTTP/1.1" 303'
    assert "abc-123" not in redact(line) and "xyz" not in redact(line)
    assert "/smart/callback?<redacted> HTTP/1.1" in redact(line)
