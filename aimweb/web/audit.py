"""The sign-in audit as a page and a CSV download: one filter, one query and one export, read by
Commerce (every account, aimweb/admin/views.py) and by a company's administrator (their company's
people, aimweb/account/people.py)."""
from __future__ import annotations

import csv
import io

from flask import Response, render_template, request, stream_with_context
from sqlalchemy import select
from sqlalchemy.orm import aliased

from .. import formatting
from ..accounts import EVENT_KINDS, OUTCOMES
from ..enums import AccountEventKind
from ..extensions import db
from ..models import AccountEvent, User
from .bounds import page_number
from .downloads import attachment, safe_text

PAGE_SIZE = 50
INVITATION_KINDS = (AccountEventKind.INVITED, AccountEventKind.INVITATION_WITHDRAWN)
COLUMNS = ["When (UTC)", "Email", "What", "Outcome", "Client address", "Browser", "By", "Note"]


def filters(args) -> dict:
    email = (args.get("email") or "").replace("\x00", "").strip().lower()[:254]
    kind = args.get("kind") or ""
    return {"email": email, "kind": kind if kind in EVENT_KINDS else ""}


def _query(chosen: dict, company_id: int | None):
    actor = aliased(User)
    query = select(AccountEvent, actor.email).outerjoin(actor, actor.id == AccountEvent.actor_id)
    if company_id is not None:
        query = query.where(AccountEvent.company_id == company_id)
    if chosen["email"]:
        query = query.where(AccountEvent.email == chosen["email"])
    if chosen["kind"]:
        query = query.where(AccountEvent.kind == chosen["kind"])
    return query.order_by(AccountEvent.at.desc(), AccountEvent.id.desc())


def page(*, company_id: int | None, title: str, intro: str, endpoint: str, csv_endpoint: str):
    """One page of the audit, newest first (a company's rows only when company_id is given)."""
    number = page_number(request.args)
    chosen = filters(request.args)
    rows = db.session.execute(
        _query(chosen, company_id).limit(PAGE_SIZE + 1).offset((number - 1) * PAGE_SIZE)).all()
    args = {k: v for k, v in chosen.items() if v}
    return render_template("audit.html", rows=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE,
                           page=number, filters=chosen, args=args, kinds=EVENT_KINDS, outcomes=OUTCOMES,
                           title=title, intro=intro, endpoint=endpoint, csv_endpoint=csv_endpoint,
                           # An invitation's address has no account yet, by nature: not worth a tag.
                           invitation_kinds=INVITATION_KINDS)


def csv_download(*, company_id: int | None, filename: str) -> Response:
    """The filtered audit as CSV, streamed (every cell formula-safe)."""
    chosen = filters(request.args)

    def lines():
        out = io.StringIO()
        writer = csv.writer(out)
        out.write("\ufeff")
        writer.writerow(COLUMNS)
        result = db.session.execute(_query(chosen, company_id).execution_options(yield_per=2000))
        for count, (event, actor_email) in enumerate(result, start=1):
            writer.writerow([
                formatting.iso_datetime(event.at), safe_text(event.email),
                EVENT_KINDS.get(event.kind, event.kind), OUTCOMES.get(event.outcome, event.outcome),
                safe_text(event.client_address or ""), safe_text(event.user_agent or ""),
                safe_text(actor_email or ""), safe_text(event.note or ""),
            ])
            if count % 500 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return attachment(Response(stream_with_context(lines()), mimetype="text/csv; charset=utf-8"), filename)
