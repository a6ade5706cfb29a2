"""`/verify`: anyone uploads a PDF and reads the engine's report on each signature. Nothing is stored."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from signing.certificates import trust_anchors
from signing.clock import utcnow
from signing.errors import PdfRejected
from signing.pades import PdfLimits, VerificationReport, inspect_pdf, verify
from signing.pki import issuing_ca
from web.errors import FIELD_MESSAGES, ErrorInfo, error_response, form_failure, wants_json
from web.htmx import render
from web.services import db, services

__all__ = ["PROBLEM_TEXTS", "VerifyForm", "bp", "read_upload"]

bp = Blueprint("verify", __name__)
Failure = tuple[ErrorInfo, str]
MIB = 1024 * 1024

PROBLEM_TEXTS: dict[str, LazyString] = {
    "PDF-UNREADABLE": _l("Файл не читается как PDF."),
    "SIG-UNREADABLE": _l("Подпись повреждена и не читается."),
    "SIG-NOT-INTACT": _l("Подписанные данные изменены после подписания."),
    "SIG-INVALID": _l("Значение подписи не сходится с ключом сертификата."),
    "CERT-REVOKED": _l("Сертификат подписанта отозван."),
    "CERT-UNTRUSTED": _l(
        "Сертификат выдан не доверенным нами удостоверяющим центром, или его цепочку не удалось проверить."
    ),
    "BYTERANGE-INCOMPLETE": _l("Подпись охватывает не весь документ, каким он был при подписании."),
    "DOC-MODIFIED-AFTER-SIGNING": _l("После подписания в документ внесены недопустимые изменения."),
    "DOCMDP-VIOLATED": _l("Изменения после подписания запрещены заверяющей подписью (DocMDP)."),
    "NO-TIMESTAMP": _l("У подписи нет штампа времени: время подписания заявлено подписантом и не подтверждено."),
    "TIMESTAMP-INVALID": _l("Штамп времени подписи повреждён."),
    "TIMESTAMP-UNTRUSTED": _l("Штамп времени выдан службой, которой мы не доверяем."),
}
"""The engine's problem codes (signing.pades.verify) in words."""

VERDICTS: dict[str, tuple[LazyString, LazyString]] = {
    "valid": (_l("Все подписи действительны"),
              _l("Документ не изменён после подписания, сертификаты доверенные и не отозваны.")),
    "invalid": (_l("Документ не прошёл проверку"),
                _l("Хотя бы одна подпись недействительна: причины ниже.")),
    "indeterminate": (_l("Проверка не дала однозначного ответа"),
                      _l("Подписи целы, но доверие к ним подтвердить не удалось: причины ниже.")),
    "unsigned": (_l("В документе нет подписей"), _l("Этот PDF никто не подписывал.")),
}
COVERAGE: dict[str, LazyString] = {
    "entire_file": _l("весь файл"),
    "entire_revision": _l("документ, каким он был при подписании (после него есть дополнения)"),
    "incomplete": _l("не весь документ"),
}
MODIFICATIONS: dict[str, LazyString] = {
    "none": _l("нет"),
    "lta_updates": _l("только данные для долгосрочной проверки (штампы времени, списки отзыва)"),
    "form_filling": _l("заполнение полей и следующие подписи"),
    "annotations": _l("примечания (аннотации)"),
    "other": _l("изменения содержимого"),
}
PERMISSIONS: dict[str, LazyString] = {
    "no_changes": _l("никаких изменений"),
    "fill_forms": _l("заполнение полей и подписи"),
    "annotate": _l("заполнение полей, подписи и примечания"),
}


class VerifyForm(FlaskForm):  # type: ignore[misc]
    file = FileField(_l("PDF-файл"), [FileRequired(message=FIELD_MESSAGES["REQUIRED"])])


def read_upload(upload: FileStorage, max_bytes: int) -> bytes:
    """The uploaded bytes, read no further than one byte past the limit (enough to refuse as too large)."""
    return upload.stream.read(max_bytes + 1)



def _check(pdf: bytes) -> VerificationReport:
    """Refuse what is not a readable PDF within the limits, then verify against the service's trust anchors."""
    settings = services().settings
    inspect_pdf(pdf, PdfLimits.from_settings(settings))
    now = utcnow()
    trust = trust_anchors(db(), issuing_ca(settings), now=now)
    db().commit()  # keep a CRL published on demand, as /pki does
    return verify(pdf, trust=trust, now=now)


def _page(form: VerifyForm, report: VerificationReport | None, failure: Failure | None) -> tuple[str, int]:
    return render(
        "verify/page.html", "verify/_verify.html", failure[0].status if failure else 200,
        form=form, report=report, failure=failure, max_mb=services().settings.pdf_max_bytes // MIB,
        verdicts=VERDICTS, problems=PROBLEM_TEXTS, coverage=COVERAGE, modifications=MODIFICATIONS,
        permissions=PERMISSIONS,
    )


@bp.route("/verify", methods=["GET", "POST"])
def page() -> Response | tuple[str, int]:
    form = VerifyForm()
    if request.method == "GET":
        return _page(form, None, None)
    if not form.validate_on_submit():
        failure = form_failure("FORM-INVALID")
        return error_response(*failure) if wants_json() else _page(form, None, failure)
    try:
        report = _check(read_upload(form.file.data, services().settings.pdf_max_bytes))
    except PdfRejected as exc:
        failure = form_failure(exc.code)
        if wants_json():
            return error_response(*failure)
        form.file.errors = [f"{failure[0].message} {failure[0].hint}"]
        return _page(form, None, failure)
    if wants_json():
        return jsonify(report.to_dict())
    return _page(form, report, None)
