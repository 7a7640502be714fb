"""The SMS gateway's inbound-message webhook: ``POST /sms/inbound``.

Point the gateway's "a message comes in" webhook here (docs/team.md). The request must carry
the gateway's signature over the address it called, rebuilt from ``CARESHEET_BASE_URL`` when
one is set (behind a proxy the request's own host is the proxy's view), and the form; a bad
or missing one is 403 and changes nothing. The work is ``guide.answer_text``; the answer is
TwiML. The sender's number is never logged: the audit names the handouts, not the phone.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from caresheet import guide
from caresheet.config import site_url
from caresheet.errors import ForbiddenError
from caresheet.store.db import Store
from caresheet.team.notify import inbound
from caresheet.team.notify.settings import configured
from caresheet.web.client import client_ip
from caresheet.web.deps import get_store
from caresheet.web.guide import now

router = APIRouter()
PATH = "/sms/inbound"


def called_url(request: Request) -> str:
    """The URL the gateway called, as it saw it (what it signed)."""
    query = f"?{request.url.query}" if request.url.query else ""
    return site_url(str(request.base_url)) + request.url.path + query


@router.post(PATH, include_in_schema=False)
async def inbound_message(request: Request) -> Response:
    form = await request.form()
    fields = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    if not inbound.signed(configured().sms_token, called_url(request), fields,
                          request.headers.get(inbound.SIGNATURE_HEADER)):
        raise ForbiddenError("the request does not carry the SMS gateway's valid signature")
    sender = str(form.get("From") or "")
    body = str(form.get("Body") or "")
    twiml = await run_in_threadpool(_answer, get_store(request), sender, body,
                                    client_ip(request))
    return Response(twiml, media_type="application/xml")


def _answer(store: Store, sender: str, body: str, ip: str | None) -> str:
    with store.session() as session:
        return guide.answer_text(session, sender, body, now(), ip)
