"""gunicorn settings read by every `gunicorn wsgi:app` started in this directory (`make serve`).

gunicorn names itself and its version in a ``Server`` header on every response; that tells an
attacker which exploits to try and tells a visitor nothing, so the header is left out.
"""

from gunicorn.http import wsgi

_default_headers = wsgi.Response.default_headers


def _without_server_header(self: wsgi.Response) -> list[str]:
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _without_server_header  # type: ignore[method-assign]


def post_worker_init(worker: object) -> None:
    """Each new worker compresses the static files at brotli's best in the background, so even the
    first visitor after a start gets the smallest bodies (timeline/infra/static_assets.py; about
    4 s of one core per worker, and a request meanwhile gets a quick compression instead)."""
    import threading

    app = getattr(worker, "wsgi", None)
    assets = getattr(app, "extensions", {}).get("static_assets")
    if assets is not None:
        threading.Thread(target=assets.warm, name="static-warm-up", daemon=True).start()
