"""The personal cabinet: the documents a person initiated or signs, searched, filtered, archived by month, paged."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from signing import documents
from signing.drafting import DocumentKind
from signing.models import DocumentStatus
from web.display import kind_title, status_label
from web.forms import ResendForm
from web.htmx import render
from web.login import current_account
from web.services import db

__all__ = ["PER_PAGE", "ListFilters", "bp"]

bp = Blueprint("cabinet", __name__)
PER_PAGE = 20
MAX_QUERY = 200
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class ListFilters:
    """What the list is narrowed to, read leniently from the query string: a value that means nothing is ignored."""

    query: str = ""
    status: str | None = None
    kind: str | None = None
    month: date | None = None
    """First day of the archive month, or None for all months."""
    page: int = 1

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> ListFilters:
        status = args.get("status") or None
        kind = args.get("kind") or None
        page = args.get("page", "")
        return cls(
            query=" ".join(args.get("q", "").split())[:MAX_QUERY],
            status=status if status in set(DocumentStatus) else None,
            kind=kind if kind in set(DocumentKind) else None,
            month=_month(args.get("month", "")),
            page=int(page) if page.isdigit() and len(page) < 7 else 1,
        )

    @property
    def month_text(self) -> str | None:
        """The month as the query string carries it, «2026-11»."""
        return self.month.strftime("%Y-%m") if self.month else None

    def args(self, **changes: object) -> dict[str, object]:
        """Query-string arguments for a link to this list with some filters changed (empty ones left out)."""
        values: dict[str, object] = {
            "q": self.query, "status": self.status, "kind": self.kind,
            "month": self.month_text, "page": self.page,
        }
        values.update(changes)
        return {key: value for key, value in values.items()
                if value not in (None, "") and not (key == "page" and value == 1)}


def _month(text: str) -> date | None:
    match = _MONTH.fullmatch(text)
    if match is None or not 1 <= int(match.group(2)) <= 12 or not 1900 <= int(match.group(1)) <= 2999:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


@bp.get("/")
def home() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for(".index"))
    return render_template("home.html")


@bp.get("/cabinet")
@login_required
def index() -> tuple[str, int]:
    account = current_account()
    filters = ListFilters.from_args(request.args)
    listing = documents.visible_documents(
        db(), account, query=filters.query, status=filters.status, kind=filters.kind,
        period_month=filters.month, page=filters.page, per_page=PER_PAGE,
    )
    months = documents.archive_months(db(), account)
    return render(
        "cabinet/page.html", "cabinet/_documents.html", account=account, listing=listing, filters=filters,
        months=months, form=ResendForm(),
        status_options=[(status.value, status_label(status.value)) for status in DocumentStatus],
        kind_options=[(kind.value, kind_title(kind.value)) for kind in DocumentKind],
        month_options=[(f"{month:%Y-%m}", f"{month:%m.%Y} ({count})") for month, count in months],
    )
