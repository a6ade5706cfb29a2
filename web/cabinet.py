"""The personal cabinet: the person's documents (filled by the signature-round issues)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from web.forms import ResendForm
from web.login import current_account

__all__ = ["bp"]

bp = Blueprint("cabinet", __name__)


@bp.get("/")
def home() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for(".index"))
    return render_template("home.html")


@bp.get("/cabinet")
@login_required
def index() -> str:
    return render_template("cabinet/page.html", account=current_account(), documents=[], form=ResendForm())
