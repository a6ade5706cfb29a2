"""Podpisant's domain core: accounts, documents, signatures, jobs. Never imports Flask."""
