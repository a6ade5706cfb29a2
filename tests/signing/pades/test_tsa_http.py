"""Production timestamping: RFC 3161 over HTTP to `TSA_URL` (a local TSA here), and a TSA that is down."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import DummyTimeStamper

from signing.errors import TimestampUnavailable
from signing.pades import SignatorySlot, make_timestamper, prepare_for_round, sign_field, verify
from signing.pades.timestamps import GENEROUS_TOKEN_ALLOWANCE, HTTP_TOKEN_MARGIN, token_allowance
from signing.pades.trust import dev_trust, to_asn1_cert
from tests.conftest import free_port
from tests.support.pades import CERTS_DIR, PASSPHRASE, dev_pki, person_identity, plain_pdf


class _TsaHandler(BaseHTTPRequestHandler):
    """A TSA answering application/timestamp-query with pyHanko's reference implementation and the dev TSA key."""

    tsa: DummyTimeStamper
    requests_seen: list[bytes]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.requests_seen.append(body)
        answer = self.tsa.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def tsa_url() -> Iterator[tuple[str, list[bytes]]]:
    pki = dev_pki()
    key = pki.tsa_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    seen: list[bytes] = []
    handler = type("Handler", (_TsaHandler,), {
        "tsa": DummyTimeStamper(tsa_cert=to_asn1_cert(pki.tsa_cert), tsa_key=asn1_keys.PrivateKeyInfo.load(key)),
        "requests_seen": seen,
    })
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsp", seen
    server.shutdown()
    server.server_close()


def test_signatures_are_timestamped_by_the_configured_tsa_over_http(tsa_url: tuple[str, list[bytes]]) -> None:
    url, seen = tsa_url
    pdf = prepare_for_round(plain_pdf(), [SignatorySlot("a", "Иванова Мария Сергеевна")])
    timestamper = make_timestamper(url, CERTS_DIR, PASSPHRASE)
    assert token_allowance(timestamper) == GENEROUS_TOKEN_ALLOWANCE, "nothing is known of its tokens yet"
    signed = sign_field(pdf, "a", person_identity(), timestamper=timestamper)
    assert len(seen) == 1, "exactly one RFC 3161 request per signature (no dry run)"
    report = verify(signed, trust=dev_trust(CERTS_DIR, PASSPHRASE))
    assert report.verdict == "valid", report.to_dict()
    assert report.signatures[0].pades_level == "B-T"


def test_a_tsa_that_does_not_answer_fails_the_signature_cleanly() -> None:
    pdf = prepare_for_round(plain_pdf(), [SignatorySlot("a", "Иванова Мария Сергеевна")])
    down = make_timestamper(f"http://127.0.0.1:{free_port()}/tsp", CERTS_DIR, PASSPHRASE, timeout=2)
    with pytest.raises(TimestampUnavailable, match="timestamp authority"):
        sign_field(pdf, "a", person_identity(), timestamper=down)


def test_the_space_for_an_http_tsas_token_follows_the_largest_token_it_returned(
    tsa_url: tuple[str, list[bytes]],
) -> None:
    url, _seen = tsa_url
    timestamper = make_timestamper(url, CERTS_DIR, PASSPHRASE)
    slots = [SignatorySlot("a", "Иванова Мария Сергеевна"), SignatorySlot("b", "Петров Пётр Петрович")]
    first = sign_field(prepare_for_round(plain_pdf(), slots), "a", person_identity(), timestamper=timestamper)
    (signature,) = PdfFileReader(io.BytesIO(first)).embedded_signatures
    token = signature.signer_info["unsigned_attrs"][0]["values"][0]
    assert token_allowance(timestamper) == len(token.dump()) + HTTP_TOKEN_MARGIN < GENEROUS_TOKEN_ALLOWANCE
    second = sign_field(first, "b", person_identity(), timestamper=timestamper)
    assert verify(second, trust=dev_trust(CERTS_DIR, PASSPHRASE)).verdict == "valid"
