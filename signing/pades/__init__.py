"""PAdES: preparing, signing, finalizing and verifying PDFs. The only package that imports pyHanko."""

from __future__ import annotations

from signing.pades import speedups

speedups.install()
