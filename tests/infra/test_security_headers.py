"""Security headers on every answer, Flask's and the cache front's alike; HSTS only over HTTPS."""

import pytest
from helpers import feature

from timeline.infra.security import PERMISSIONS_POLICY

PATHS = ("/", "/api/events", "/api/events", "/login", "/no-such-page")  # twice: the second from the cache


@pytest.mark.parametrize("path", sorted(set(PATHS)))
def test_every_answer_switches_off_browser_features_the_site_never_uses(client, load, path):
    load(feature("ev-h"))
    for _ in range(2):
        response = client.get(path)
        assert response.headers["Permissions-Policy"] == PERMISSIONS_POLICY
        assert "camera=()" in response.headers["Permissions-Policy"]


def test_hsts_is_sent_over_https_only(client, load):
    load(feature("ev-h"))
    for _ in range(2):  # Flask's answer, then the cache front's
        secure = client.get("/api/events", base_url="https://timeline.example")
        assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
        plain = client.get("/api/events")
        assert "Strict-Transport-Security" not in plain.headers


def test_behind_a_trusted_proxy_https_is_read_from_x_forwarded_proto(fresh_database, app_factory):
    app = app_factory(fresh_database("proxied"), PROXY_COUNT=1, HSTS_MAX_AGE=600)
    client = app.test_client()
    for _ in range(2):
        forwarded = client.get("/api/events", headers={"X-Forwarded-Proto": "https"})
        assert forwarded.headers["Strict-Transport-Security"] == "max-age=600"
    assert "Strict-Transport-Security" not in client.get("/api/events").headers


def test_hsts_can_be_switched_off(fresh_database, app_factory):
    app = app_factory(fresh_database("no-hsts"), HSTS_MAX_AGE=0)
    response = app.test_client().get("/", base_url="https://timeline.example")
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("path", ["/", "/embed", "/login", "/api/docs"])
def test_styles_need_the_nonce_no_inline_styles_are_allowed(client, path):
    csp = client.get(path).headers["Content-Security-Policy"]
    style_src = next(part for part in csp.split(";") if part.strip().startswith("style-src"))
    assert "'unsafe-inline'" not in style_src and "'self'" in style_src
