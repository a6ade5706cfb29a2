"""The WSGI entry point: `gunicorn wsgi:app`. A refused configuration exits with its message, not a traceback."""

import sys

from signing.errors import ConfigurationError
from web import create_app

try:
    app = create_app()
except ConfigurationError as exc:
    print(f"Podpisant: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
