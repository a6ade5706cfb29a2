"""Drafting documents from a form: kinds, parties' requisites, line items and VAT, periods, and the PDF rendering.

Pure domain code: no web framework and no database. The documents service stores `Draft.to_dict()` and checks
period overlaps against stored documents with `overlaps`; web forms call `validate_draft` and map each
FieldError's path back to its input.
"""

from signing.drafting.draft import Draft, validate_draft
from signing.drafting.kinds import DocumentKind
from signing.drafting.money import LineItem, Totals, VatRate, amount_in_words, format_amount
from signing.drafting.periods import Period, month_of, overlap_error, overlaps, parse_period, previous_month
from signing.drafting.render import render_pdf
from signing.drafting.requisites import Party

__all__ = [
    "DocumentKind",
    "Draft",
    "LineItem",
    "Party",
    "Period",
    "Totals",
    "VatRate",
    "amount_in_words",
    "format_amount",
    "month_of",
    "overlap_error",
    "overlaps",
    "parse_period",
    "previous_month",
    "render_pdf",
    "validate_draft",
]
