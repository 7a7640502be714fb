"""The one-tap page that stops a patient's follow-up prompts: ``/h/{token}/stop``.

The link in every prompt opens a page with one button (a GET changes nothing, since mail
scanners open links); the POST records the stop (``guide.stop_prompts``) and the outbox drops
every prompt still waiting. It works on an ended link too: stopping is always allowed.
A text message STOP does the same for every open handout at that phone (``web.sms``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from caresheet import guide
from caresheet.web.client import client_ip
from caresheet.web.deps import get_store, page_language
from caresheet.web.guide import now, render

router = APIRouter()


@router.get("/h/{token}/stop", response_class=HTMLResponse, include_in_schema=False)
def stop_form(request: Request, token: str) -> HTMLResponse:
    return render(request, "guide/stop.html", lang=page_language(request), token=token,
                  stopped=False)


@router.post("/h/{token}/stop", response_class=HTMLResponse, include_in_schema=False)
def stop(request: Request, token: str) -> HTMLResponse:
    with get_store(request).session() as session:
        handout = guide.stop_prompts(session, token, now(), client_ip(request))
    return render(request, "guide/stop.html", lang=handout.language, token=token, stopped=True)
