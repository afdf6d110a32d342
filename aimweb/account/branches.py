"""The company's Branches page (My Account): its administrator adds, edits, archives and restores
branches; its filers and viewers read them. The rules live in aimweb/branches.py."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from .. import branches as service
from ..web import answers
from ..web.access import company_admin_required, member_required
from . import bp
from .forms import BranchForm


def _values(form: BranchForm) -> service.BranchValues:
    return service.BranchValues(name=form.name.data, street=form.street.data, city=form.city.data,
                                state=form.state.data, zip_code=form.zip_code.data,
                                suffix=form.suffix.data or None)


def _page(form=None, editing=None, status=200):
    company_id = current_user.company_id
    return render_template("account/branches.html", company=current_user.company,
                           branches=service.company_branches(company_id), editing=editing,
                           form=form or BranchForm(formdata=None), can_manage=current_user.is_company_admin), status


def _branch(branch_id: int):
    return answers.found(service.branch_of(current_user.company_id, branch_id))


def _done(message: str, category: str = "success"):
    return answers.done(message, "account.branches", category)


@bp.get("/branches")
@member_required   # filers and viewers read the branches; only the administrator changes them
def branches():
    return _page()


@bp.post("/branches")
@company_admin_required
def add_branch():
    form = BranchForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        branch = service.add_branch(current_user.company_id, _values(form))
    except service.BranchError as refused:
        getattr(form, refused.field).errors.append(str(refused))
        return _page(form, status=400)
    return _done(f"Branch “{branch.label}” was added: licenses can be filed for it.")


@bp.route("/branches/<int:branch_id>/edit", methods=["GET", "POST"])
@company_admin_required
def edit_branch(branch_id: int):
    branch = _branch(branch_id)
    form = BranchForm(obj=branch)
    if form.is_submitted():
        if not form.validate():
            return _page(form, branch, 400)
        try:
            service.edit_branch(branch, _values(form))
        except service.BranchError as refused:
            getattr(form, refused.field).errors.append(str(refused))
            return _page(form, branch, 400)
        return _done(f"Branch “{branch.label}” was saved.")
    return _page(form, branch)


@bp.post("/branches/<int:branch_id>/archive")
@company_admin_required
def archive_branch(branch_id: int):
    branch = _branch(branch_id)
    if service.archive_branch(branch):
        return _done(f"Branch “{branch.label}” is archived: it is no longer offered for new licenses. "
                     "The licenses filed for it keep it.")
    return _done(f"Branch “{branch.label}” was already archived.", "info")


@bp.post("/branches/<int:branch_id>/restore")
@company_admin_required
def restore_branch(branch_id: int):
    branch = _branch(branch_id)
    try:
        done = service.restore_branch(branch)
    except service.BranchError as refused:
        return _done(str(refused), "error")
    if done:
        return _done(f"Branch “{branch.label}” is restored: licenses can be filed for it again.")
    return _done(f"Branch “{branch.label}” was not archived.", "info")
