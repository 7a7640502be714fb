"""What every care-team page shares: private headers and the page helper with the CSRF token."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from caresheet.team import clinics
from caresheet.team.accounts import Login
from caresheet.web.deps import get_store, page_context, templates

# Team pages show patient data: never cached, no referrer to other sites (framing and
# sniffing are refused for every page by ``web.headers``).
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def page(
    request: Request, template: str, login: Login | None, status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """Render ``team/<template>`` with the login and its CSRF token for the page's forms.

    ``zone`` is the time zone the page's times are written in (``| local(zone)``): a page
    about one handout passes its clinic's; any other gets the viewer's clinic's.
    """
    if login is not None and "zone" not in values:
        with get_store(request).session(write=False) as session:
            values["zone"] = clinics.viewer_zone(session, login.user)
    context = page_context(request, "en", login=login,
                           csrf=login.csrf_token if login else "", **values)
    response = templates.TemplateResponse(request, f"team/{template}", context,
                                          status_code=status_code)
    response.headers.update(PRIVATE_HEADERS)
    return response


def back_to(path: str) -> RedirectResponse:
    """After a form post: see the result with GET (303), so a reload does not post again."""
    return RedirectResponse(path, status_code=303, headers=PRIVATE_HEADERS)
