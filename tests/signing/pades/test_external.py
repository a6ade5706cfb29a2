"""Two-phase signing for keys kept in the browser: prepare, sign elsewhere (raw r‖s), finish in another process."""

from __future__ import annotations

import io
import multiprocessing

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature

from signing.errors import ExternalSignatureInvalid, SignatureFieldTaken, StalePreparation
from signing.pades.external import ExternalPreparation, finish_external, prepare_external
from signing.pades.sign import sign_field
from signing.pades.timestamps import dev_timestamper
from signing.pades.trust import dev_trust, validation_context
from tests.support.pades import CERTS_DIR, PASSPHRASE, person_identity, plain_pdf, with_fields

TSA = dev_timestamper(CERTS_DIR, PASSPHRASE)


def webcrypto_sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """What `crypto.subtle.sign({name: 'ECDSA', hash: 'SHA-256'}, key, data)` returns: raw r‖s, 64 bytes."""
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _finish_in_child(state: str, signature: bytes, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    prep = ExternalPreparation.from_json(state)
    queue.put(finish_external(prep, signature, timestamper=dev_timestamper(CERTS_DIR, PASSPHRASE)))


def _assert_all_valid(pdf: bytes, count: int) -> None:
    reader = PdfFileReader(io.BytesIO(pdf))
    context = validation_context(dev_trust(CERTS_DIR, PASSPHRASE))
    statuses = [validate_pdf_signature(sig, context) for sig in reader.embedded_signatures]
    assert len(statuses) == count
    for status in statuses:
        assert status.bottom_line and status.trusted, status.pretty_print_details()
        assert status.timestamp_validity is not None and status.timestamp_validity.valid


def test_a_raw_webcrypto_signature_finished_in_another_process_is_valid_and_timestamped() -> None:
    browser = person_identity("Петров Пётр Петрович")
    pdf = with_fields(plain_pdf(), ["a", "b"])
    prep = prepare_external(pdf, "a", browser.certificate, browser.chain)
    assert prep.to_be_signed[0] == 0x31, "the browser signs the DER SET OF signed attributes"
    signature = webcrypto_sign(browser.private_key, prep.to_be_signed)  # type: ignore[arg-type]
    assert len(signature) == 64

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_finish_in_child, args=(prep.to_json(), signature, queue))
    child.start()
    signed = queue.get(timeout=60)
    child.join(10)
    assert child.exitcode == 0
    _assert_all_valid(signed, 1)

    # and the document keeps accepting signatures: a server-side one into the other field
    both = sign_field(signed, "b", person_identity(), timestamper=TSA)
    _assert_all_valid(both, 2)


def test_a_der_signature_is_accepted_as_well() -> None:
    browser = person_identity()
    prep = prepare_external(with_fields(plain_pdf(), ["a"]), "a", browser.certificate, browser.chain)
    der = browser.private_key.sign(prep.to_be_signed, ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg, arg-type]
    _assert_all_valid(finish_external(prep, der, timestamper=TSA), 1)


def test_a_signature_by_another_key_is_refused() -> None:
    browser, stranger = person_identity(), person_identity()
    prep = prepare_external(with_fields(plain_pdf(), ["a"]), "a", browser.certificate, browser.chain)
    with pytest.raises(ExternalSignatureInvalid):
        finish_external(prep, webcrypto_sign(stranger.private_key, prep.to_be_signed), timestamper=TSA)  # type: ignore[arg-type]


def test_finishing_against_a_document_that_changed_meanwhile_is_refused() -> None:
    browser = person_identity()
    pdf = with_fields(plain_pdf(), ["a", "b"])
    prep = prepare_external(pdf, "a", browser.certificate, browser.chain)
    changed = sign_field(pdf, "b", person_identity(), timestamper=TSA)
    signature = webcrypto_sign(browser.private_key, prep.to_be_signed)  # type: ignore[arg-type]
    with pytest.raises(StalePreparation):
        finish_external(prep, signature, timestamper=TSA, current_pdf=changed)


def test_a_damaged_stored_state_is_refused_as_stale() -> None:
    with pytest.raises(StalePreparation):
        ExternalPreparation.from_json('{"v": 1, "field": "a"}')


def test_preparing_a_signed_field_is_refused() -> None:
    browser = person_identity()
    pdf = sign_field(with_fields(plain_pdf(), ["a"]), "a", person_identity(), timestamper=TSA)
    with pytest.raises(SignatureFieldTaken):
        prepare_external(pdf, "a", browser.certificate, browser.chain)
