"""gunicorn settings read by every `gunicorn wsgi:app` started in this directory (`make serve`).

gunicorn names itself and its version in a ``Server`` header on every response; that tells an
attacker which exploits to try and tells a visitor nothing, so the header is left out.
"""

from gunicorn.http import wsgi

_default_headers = wsgi.Response.default_headers


def _without_server_header(self: wsgi.Response) -> list[str]:
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _without_server_header  # type: ignore[method-assign]
