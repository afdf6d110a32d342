"""The sign-in audit for officers: who signed in, failed, was paused, changed a password, when
and from where; filtered by e-mail address and kind, paged, and exported as CSV."""
from __future__ import annotations

import csv
import io

from flask import Response, render_template, request, stream_with_context
from sqlalchemy import select
from sqlalchemy.orm import aliased

from .. import formatting
from ..accounts import EVENT_KINDS, OUTCOMES
from ..extensions import db
from ..models import AccountEvent, User
from ..web.access import officer_required
from ..web.bounds import page_number
from ..web.downloads import safe_text
from . import bp

PAGE_SIZE = 50


def _filters(args) -> dict:
    email = (args.get("email") or "").replace("\x00", "").strip().lower()[:254]
    kind = args.get("kind") or ""
    return {"email": email, "kind": kind if kind in EVENT_KINDS else ""}


def _query(filters: dict):
    actor = aliased(User)
    query = select(AccountEvent, actor.email).outerjoin(actor, actor.id == AccountEvent.actor_id)
    if filters["email"]:
        query = query.where(AccountEvent.email == filters["email"])
    if filters["kind"]:
        query = query.where(AccountEvent.kind == filters["kind"])
    return query.order_by(AccountEvent.at.desc(), AccountEvent.id.desc())


@bp.get("/sign-ins")
@officer_required
def sign_ins():
    page = page_number(request.args)
    filters = _filters(request.args)
    rows = db.session.execute(
        _query(filters).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    args = {k: v for k, v in filters.items() if v}
    return render_template("admin/sign_ins.html", rows=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE,
                           page=page, filters=filters, args=args, kinds=EVENT_KINDS, outcomes=OUTCOMES)


@bp.get("/sign-ins.csv")
@officer_required
def sign_ins_csv():
    filters = _filters(request.args)

    def lines():
        out = io.StringIO()
        writer = csv.writer(out)
        out.write("\ufeff")
        writer.writerow(["When (UTC)", "Email", "What", "Outcome", "Client address", "Browser",
                         "By", "Note"])
        result = db.session.execute(_query(filters).execution_options(yield_per=2000))
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

    response = Response(stream_with_context(lines()), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="aim-sign-ins.csv"'
    return response
