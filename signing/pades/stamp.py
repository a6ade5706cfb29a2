"""The visible signature stamp in the Russian convention: «Документ подписан электронной подписью».

A bordered dark-blue box filling the signatory's field, with the certificate's serial number, its owner, its
validity and the signing time in the service's time zone. The time shown is the one the signature claims: the
style reads it from pyHanko's own `ts` parameter (the time pyHanko embeds), not from the caller.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import TextStamp, TextStampStyle

from signing.pades.fontengine import PodpisantFontEngineFactory, wrap_text

__all__ = ["MOSCOW", "STAMP_TITLE", "RussianStampStyle", "format_signing_time", "stamp_style", "stamp_text_params"]

MOSCOW = ZoneInfo("Europe/Moscow")
STAMP_TITLE = "Документ подписан электронной подписью"
DARK_BLUE = (0.09, 0.2, 0.5)
FONT_SIZE = 8
LEADING = 10
PADDING = 6
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"
"""How pyHanko is asked to render its `ts` parameter, so the style can read the exact time back."""
ZONE_LABELS = {"Europe/Moscow": "МСК"}


@dataclass(frozen=True)
class RussianStampStyle(TextStampStyle):
    """pyHanko's text stamp with the Russian-convention wording, wrapped to the field's width."""

    tz: ZoneInfo = MOSCOW
    """Time zone the signing time and the validity dates are shown in."""
    timestamp_format: str = ISO_FORMAT
    border_width: int = 1
    border_color: tuple[float, float, float] | None = DARK_BLUE
    stamp_text: str = "%(stamp_body)s"
    text_box_style: TextBoxStyle = field(
        default_factory=lambda: TextBoxStyle(
            font=PodpisantFontEngineFactory(),
            font_size=FONT_SIZE,
            leading=LEADING,
            text_color=DARK_BLUE,
            box_layout_rule=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MIN
            ),
        )
    )
    inner_content_layout: layout.SimpleBoxLayoutRule | None = field(
        default_factory=lambda: layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(PADDING),
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        )
    )

    def create_stamp(
        self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict[str, str]
    ) -> TextStamp:
        params = dict(text_params)
        if "ts" in params:  # pyHanko's claimed signing time wins over anything passed in
            params["signed_at"] = format_signing_time(datetime.strptime(params["ts"], ISO_FORMAT), self.tz)
        width = box.width - 2 * PADDING if box.width_defined else float("inf")
        params["stamp_body"] = "\n".join(_stamp_lines(params, width))
        return super().create_stamp(writer, box, params)


def _stamp_lines(params: dict[str, str], width: float) -> list[str]:
    lines = [
        STAMP_TITLE,
        f"Сертификат: {params.get('serial', '')}",
        f"Владелец: {params.get('owner', '')}",
        f"Действителен с {params.get('valid_from', '')} по {params.get('valid_to', '')}",
        f"Подписано: {params.get('signed_at', '')}",
    ]
    return [part for line in lines for part in wrap_text(line, width, FONT_SIZE)]


def stamp_style(tz: ZoneInfo = MOSCOW) -> RussianStampStyle:
    """The stamp style for `PdfSigner(..., stamp_style=stamp_style())`; times shown in `tz`."""
    return RussianStampStyle(tz=tz)


def format_signing_time(moment: datetime, tz: ZoneInfo = MOSCOW) -> str:
    """«ДД.ММ.ГГГГ ЧЧ:ММ МСК»: the moment in `tz`, labelled with the zone."""
    local = moment.astimezone(tz)
    label = ZONE_LABELS.get(tz.key) or f"UTC{local.strftime('%z')[:3]}:{local.strftime('%z')[3:]}"
    return f"{local:%d.%m.%Y %H:%M} {label}"


def stamp_text_params(
    certificate: x509.Certificate, signing_time: datetime | None = None, tz: ZoneInfo = MOSCOW
) -> dict[str, str]:
    """pyHanko `appearance_text_params` describing `certificate`: serial, owner and validity dates in `tz`.

    `signing_time` fills `signed_at` for renderings outside pyHanko; when pyHanko signs, the stamp shows the
    signing time it embeds instead, so the two can never disagree.
    """
    params = {
        "serial": _serial(certificate),
        "owner": _owner(certificate),
        "valid_from": f"{certificate.not_valid_before_utc.astimezone(tz):%d.%m.%Y}",
        "valid_to": f"{certificate.not_valid_after_utc.astimezone(tz):%d.%m.%Y}",
    }
    if signing_time is not None:
        params["signed_at"] = format_signing_time(signing_time, tz)
    return params


def _serial(certificate: x509.Certificate) -> str:
    digits = f"{certificate.serial_number:X}"
    return digits.zfill(len(digits) + len(digits) % 2)


def _owner(certificate: x509.Certificate) -> str:
    with warnings.catch_warnings():  # a Cyrillic CN over 32 letters is legal but exceeds cryptography's byte count
        warnings.simplefilter("ignore", UserWarning)
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names:
        value = names[0].value
        return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return certificate.subject.rfc4514_string()
