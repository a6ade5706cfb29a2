"""Signing with the collector paused: the signature's objects are freed when the call returns, and the
collector is left as it was found, also when calls nest, overlap in threads or fail."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing.errors import SignatureFieldMissing
from signing.pades import sign as sign_module
from signing.pades.collector import collector_paused
from signing.pades.layout import SignatorySlot, prepare_for_round
from signing.pades.sign import sign_field
from signing.pades.timestamps import dev_timestamper
from tests.support.pades import CERTS_DIR, PASSPHRASE, person_identity, plain_pdf

TSA = dev_timestamper(CERTS_DIR, PASSPHRASE)


@pytest.fixture
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def _document() -> bytes:
    return prepare_for_round(plain_pdf(1), [SignatorySlot("a", "Иванов И. И."), SignatorySlot("b", "Петров П. П.")])


def test_a_signatures_objects_are_freed_when_the_call_returns(
    collector_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    writers: list[weakref.ref[IncrementalPdfFileWriter]] = []

    class Tracked(IncrementalPdfFileWriter):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            writers.append(weakref.ref(self))

    monkeypatch.setattr(sign_module, "IncrementalPdfFileWriter", Tracked)
    gc.collect()
    signed = sign_field(_document(), "a", person_identity(), timestamper=TSA)
    assert len(writers) == 1 and writers[0]() is None  # no collection ran here: the call freed its reader graph
    assert gc.isenabled()
    assert sign_field(signed, "b", person_identity(), timestamper=TSA).startswith(signed)


def test_no_automatic_collection_runs_while_a_document_is_signed(
    collector_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[int] = []
    enabled_inside: list[bool] = []
    sign_with_pyhanko = sign_module._sign_with_pyhanko

    def observed(*args: object) -> bytes:
        enabled_inside.append(gc.isenabled())
        return sign_with_pyhanko(*args)  # type: ignore[arg-type]

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    monkeypatch.setattr(sign_module, "_sign_with_pyhanko", observed)
    pdf = _document()
    gc.callbacks.append(count)
    try:
        sign_field(pdf, "a", person_identity(), timestamper=TSA)
    finally:
        gc.callbacks.remove(count)
    assert enabled_inside == [False]
    assert runs == [0]  # only the collection of the youngest generation at the end


def test_a_collector_the_application_disabled_stays_disabled(collector_enabled: None) -> None:
    gc.disable()
    sign_field(_document(), "a", person_identity(), timestamper=TSA)
    assert not gc.isenabled()


def test_the_collector_is_enabled_again_after_a_refused_signature(collector_enabled: None) -> None:
    with pytest.raises(SignatureFieldMissing):
        sign_field(_document(), "nobody", person_identity(), timestamper=TSA)
    assert gc.isenabled()


def test_nested_and_overlapping_pauses_enable_the_collector_only_when_the_last_one_ends(
    collector_enabled: None,
) -> None:
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with collector_paused():
            inside.set()
            release.wait(5)

    with collector_paused():
        thread = threading.Thread(target=other)
        thread.start()
        assert inside.wait(5)
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled()  # the thread's pause is still open
    release.set()
    thread.join(5)
    assert gc.isenabled()
