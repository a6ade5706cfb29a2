"""The DocMDP permission of a document's certifying signature, read without parsing its signature dictionary.

Before adding a signature to a certified document pyHanko reads the certifying signature's dictionary
(`read_certification_data`) only to learn its /P: the dictionary is ~11 KB, nearly all of it /Contents, and
parsing it (hex string, literal strings with escapes) costs ~0.15 ms of every later signature. When the dictionary
is spelt exactly as our signatures write it, one regular expression over its bytes finds /P; anything else (another
spelling or key, an object stream, an encrypted or strict reader, an object already read) is pyHanko's code.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Final

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm

__all__ = ["UNREAD", "docmdp_permission"]


class _Unread(Enum):
    UNREAD = "unread"


UNREAD: Final = _Unread.UNREAD
"""`docmdp_permission` could not read the dictionary on its own: ask pyHanko."""

_LITERAL = rb"\((?:[^()\\]|\\[\s\S])*\)"
_CERTIFYING_SIGNATURE = re.compile(
    rb"(?P<id>[1-9]\d{0,9}) (?P<gen>\d{1,5}) obj\n<<\n"
    rb"/Contents <[0-9A-Fa-f]*>\n/ByteRange \[\d{1,15} \d{1,15} \d{1,15} \d{1,15}\] *\n"
    rb"/Type /Sig\n/Filter /Adobe\.PPKLite\n/SubFilter /ETSI\.CAdES\.detached\n"
    rb"(?:/M " + _LITERAL + rb"\n)?(?:/Name " + _LITERAL + rb"\n)?(?:/Location " + _LITERAL + rb"\n)?"
    rb"(?:/Reason " + _LITERAL + rb"\n)?(?:/ContactInfo " + _LITERAL + rb"\n)?"
    rb"/Reference \[ <<\n/Type /SigRef\n/TransformMethod /DocMDP\n"
    rb"/TransformParams <<\n/Type /TransformParams\n/V /1\.2\n/P (?P<p>[123])\n>>\n>> \]\n>>\nendobj"
)
"""A certifying signature dictionary as pyHanko writes ours (keys in its order, one per line), up to `endobj`:
its only /Reference is the DocMDP one, so its /P is what pyHanko's reader would find."""
_WINDOW = 1 << 16
"""Bytes read at the object's offset (a dictionary that does not end within them goes to pyHanko)."""


def docmdp_permission(reader: PdfFileReader) -> MDPPerm | _Unread | None:
    """The /P of the document's certifying signature (None: not certified), as `read_certification_data`
    reads it, or UNREAD when the file is not spelt as expected."""
    if reader.strict or reader.encrypted:
        return UNREAD
    try:
        perms = reader.root["/Perms"]
    except KeyError:
        return None
    if not isinstance(perms, generic.DictionaryObject):
        return UNREAD
    try:
        reference = perms.raw_get("/DocMDP")
    except KeyError:
        return None
    if not isinstance(reference, generic.IndirectObject):
        return UNREAD
    ref = reference.reference
    if reader.cache_get_indirect_object(ref.generation, ref.idnum) is not None:
        return UNREAD
    try:
        location = reader.xrefs[ref]
    except Exception:  # a missing or broken entry: pyHanko's reader reports it its own way
        return UNREAD
    if not isinstance(location, int) or isinstance(location, bool):
        return UNREAD
    stream = reader.stream
    position = stream.tell()
    try:
        stream.seek(location)
        window = stream.read(_WINDOW)
    finally:
        stream.seek(position)
    found = _CERTIFYING_SIGNATURE.match(window)
    if found is None or int(found.group("id")) != ref.idnum or int(found.group("gen")) != ref.generation:
        return UNREAD
    return MDPPerm(int(found.group("p")))

