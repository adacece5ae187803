"""The ceiling of this machine for the throughput benchmark: a minimal Flask JSON endpoint.

Served by the same gunicorn settings as the app (``gunicorn bench.hello_wsgi:app``, from the root), it
shows how many requests per second Flask + gunicorn + wrk on 127.0.0.1 allow here at all, so the
app's figure can be read as a share of that ceiling rather than as an absolute number.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify

app = Flask(__name__)


@app.get("/hello")
def hello() -> Response:
    """A tiny JSON body: all framework and server overhead, no work of our own."""
    return jsonify({"hello": "world"})
