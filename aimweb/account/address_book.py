"""The Address Book (My Account): the company's saved importers, exporters and manufacturers,
listed by kind with a filter; filers and administrators add, edit, archive and restore, viewers
read. And the suggestions the license form asks for as a party's name is typed (htmx)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import addressbook
from ..addressbook import PartyRefused, PartyValues
from ..enums import PartyKind
from ..web import answers
from ..web.access import filer_required, member_required
from ..web.bounds import page_number
from . import bp
from .forms import PartyForm


def _filters() -> dict:
    kind = PartyKind.of_slug(request.args.get("kind") or "")
    return {"kind": kind, "q": (request.args.get("q") or "").strip()[:100],
            "archived": request.args.get("archived") == "1"}


PAGE_SIZE = 100     # parties a page when one kind is shown
PREVIEW_SIZE = 25   # of each kind when all are shown (with a link to all of that kind)


@dataclass
class Group:
    kind: PartyKind
    rows: list
    total: int      # of the kind, with the filter: more than the rows when paged


def _page(form=None, status=200):
    filters = _filters()
    if form is None:
        form = PartyForm(formdata=None, kind=(filters["kind"] or PartyKind.IMPORTER).slug)
    one_kind = filters["kind"] is not None
    number, size = (page_number(request.args), PAGE_SIZE) if one_kind else (1, PREVIEW_SIZE)
    groups = [Group(kind, *addressbook.party_page(current_user.company_id, kind, filters["q"], filters["archived"],
                                                  page=number, size=size))
              for kind in PartyKind if filters["kind"] in (None, kind)]
    pages = max(1, -(-groups[0].total // size)) if one_kind else 1
    if number > pages:  # a made-up URL: the pager links only to pages that exist
        abort(404)
    return render_template("account/address_book.html", form=form, groups=groups,
                           total=sum(g.total for g in groups), page=number, pages=pages,
                           kinds=list(PartyKind), counts=addressbook.counts(current_user.company_id),
                           quiet_errors=False, **filters), status


def _values(form: PartyForm) -> PartyValues:
    return PartyValues(PartyKind.of_slug(form.kind.data), form.name.data or "",
                       form.importer_number.data or None, form.country.data or None)


@bp.get("/address-book")
@member_required
def address_book():
    return _page()


@bp.post("/address-book")
@filer_required
def add_party():
    form = PartyForm()
    if form.validate_on_submit():
        try:
            party = addressbook.add(current_user.company_id, _values(form), current_user)
        except PartyRefused as refused:
            getattr(form, refused.field).errors.append(refused.message)
        else:
            flash(f"{party.kind.label} “{party.name}” was saved to the address book.", "success")
            return redirect(url_for("account.address_book", kind=party.kind.slug), 303)
    return _page(form, 400)


def _party(party_id: int):
    return answers.found(addressbook.party_of(current_user.company_id, party_id))


@bp.route("/address-book/<int:party_id>", methods=["GET", "POST"])
@filer_required
def edit_party(party_id: int):
    party = _party(party_id)
    form = PartyForm(obj=party) if request.method == "GET" else PartyForm()
    form.kind.data = party.kind.slug  # the kind of a saved party does not change
    if request.method == "POST" and form.validate_on_submit():
        try:
            addressbook.edit(party, _values(form))
        except PartyRefused as refused:
            getattr(form, refused.field).errors.append(refused.message)
        else:
            flash(f"“{party.name}” was saved. Licenses already filed keep the name as filed.", "success")
            return redirect(url_for("account.address_book", kind=party.kind.slug), 303)
    return render_template("account/party.html", form=form, party=party), 400 if form.errors else 200


@bp.post("/address-book/<int:party_id>/archive")
@filer_required
def archive_party(party_id: int):
    party = _party(party_id)
    done = addressbook.archive(party)
    flash(f"“{party.name}” was archived: it is no longer offered on the license form." if done
          else f"“{party.name}” was already archived.", "success" if done else "info")
    return redirect(url_for("account.address_book", kind=party.kind.slug), 303)


@bp.post("/address-book/<int:party_id>/restore")
@filer_required
def restore_party(party_id: int):
    party = _party(party_id)
    done = addressbook.restore(party)
    flash(f"“{party.name}” is back in the address book." if done else f"“{party.name}” was not archived.",
          "success" if done else "info")
    return redirect(url_for("account.address_book", kind=party.kind.slug), 303)


@bp.get("/address-book/suggestions")
@member_required
def party_suggestions():
    """The options of a party field's list (htmx, from the license form): `field` names the
    license field (importer_name…), whose value is the text typed so far."""
    kind = PartyKind.of_field(request.args.get("field") or "")
    text = (request.args.get(kind.field) or "")[:200] if kind else ""
    found = addressbook.suggestions(current_user.company_id, kind, text) if kind else []
    return render_template("account/_party_options.html", parties=found, kind=kind)
