"""Builders for test data: features that satisfy the contract unless a test says otherwise."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
GOOD_PASSWORD = "correct horse battery staple 42"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def save_screenshot(page: Any, name: str) -> None:
    """Keep what the browser showed, as a test artefact (test-artifacts/, not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


SEED_NAME = "000_b9fcea42acd17229.txt"


def seed_article() -> Path | None:
    """The story's source article (German), which is not ours to commit: beside the project as the
    workspace keeps it (../shared/seeds), or where TIMELINE_SEED_ARTICLE points; None if neither."""
    root = Path(__file__).resolve().parents[1]
    candidates = [os.environ.get("TIMELINE_SEED_ARTICLE", ""), root.parent / "shared" / "seeds" / SEED_NAME,
                  Path("/work/shared/seeds") / SEED_NAME]  # fmt: skip
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def feature_ids(response: Any, mimetype: str | None = None) -> list[str]:
    """The ids of a 200 FeatureCollection answer, in order (optionally checking its media type)."""
    assert response.status_code == 200, response.get_json()
    if mimetype:
        assert response.mimetype == mimetype
    return [f["id"] for f in response.get_json()["features"]]


def auth(token: str) -> dict[str, str]:
    """Headers for an API request with a personal token."""
    return {"Authorization": f"Bearer {token}"}


def skip_or_fail(reason: str) -> None:
    """Locally a missing service skips loudly; in CI (CI=true) it is a failure."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(f"SKIPPED LOUDLY: {reason}")


# Payloads from shared/SECURITY.md: each one runs script if a renderer treats text as HTML or JS.
XSS_PAYLOADS = [
    "<img src=x onerror=alert('img')>",
    "</script><script>alert('script')</script>",
    "`${alert('template')}`",
    "\\`${alert('backslash')}`",
    '"><svg onload=alert("svg")>',
    "<a href=javascript:alert('href')>link</a>",
]


def feature(
    id: str | None = "ev-1",
    *,
    lon: float = 35.271,
    lat: float = 51.191,
    geometry: dict[str, Any] | None = None,
    **props: Any,
) -> dict[str, Any]:
    """A valid published point feature at Sudzha; keyword arguments replace properties."""
    properties: dict[str, Any] = {
        "title": "Ukrainian forces enter Sudzha",
        "description": "Test event",
        "lang": "en",
        "start": "2024-08-06",
        "end": None,
        "date_precision": "day",
        "category": "offensive",
        "place": "Sudzha, Kursk Oblast",
        "actors": ["Ukraine"],
        "confidence": "confirmed",
        "status": "published",
        "sources": [
            {
                "url": "https://example.org/report",
                "outlet": "Example",
                "title": "Report",
                "published": "2024-08-07",
            }
        ],
    }
    properties.update(props)
    result: dict[str, Any] = {
        "type": "Feature",
        "geometry": copy.deepcopy(geometry) if geometry else {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }
    if id is not None:
        result["id"] = id
    return result


def square(lon: float, lat: float, size: float = 0.1) -> dict[str, Any]:
    """A counter-clockwise square polygon with its south-west corner at lon, lat."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def only_local(requests: list[str]) -> list[str]:
    """The requests that went anywhere but 127.0.0.1 (should be none)."""
    return [u for u in requests if not u.startswith(("http://127.0.0.1:", "data:", "blob:", "about:"))]


def csrf_token(client: Any, path: str = "/login") -> str:
    """The CSRF token a form on ``path`` carries (the session cookie is kept by the client)."""
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(client: Any, username: str, password: str) -> Any:
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(client)}
    )


# Playwright and the pages' CSP (no 'unsafe-eval'): Playwright 1.65's page.wait_for_function polls
# its predicate with eval(). Given a *function* ("n => …", "() => …"), the first eval runs inside
# DevTools' own evaluation, which the CSP does not restrict, and later polls call that function, so
# it works. Given a bare *expression* ("window.done"), every later poll evals it again inside the
# page, which the CSP refuses (EvalError). So: locator waits and expect() first; wait_for_function
# only with a function.

# The map page's Leaflet map, in page scripts: the global variable Folium made, named in the page config.
THE_MAP = "window[JSON.parse(document.getElementById('page-config').textContent).page.mapVariable]"


def page_config(page: Any) -> dict[str, Any]:
    """The settings the server gave the page (its #page-config block)."""
    import json

    return json.loads(page.locator("#page-config").text_content())


def wait_for_the_map(page: Any) -> None:
    """Wait until the map's events are those of its current view (the map pane's aria-busy)."""
    from playwright.sync_api import expect

    expect(page.locator(".map-pane")).to_have_attribute("aria-busy", "false")


def centre_map_on(page: Any, lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Centre the page's map on a place and return where it is on screen (to click it)."""
    return page.evaluate(
        f"""([lat, lon, zoom]) => {{
            const map = {THE_MAP};
            map.setView([lat, lon], zoom, {{animate: false}});
            const p = map.latLngToContainerPoint([lat, lon]);
            const box = map.getContainer().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }}""",
        [lat, lon, zoom],
    )


def click_feature_at(page: Any, lon: float, lat: float, zoom: int) -> None:
    """Centre the map on a place and click the event drawn there, once the new view has loaded.

    Right after the map moves, the page is still fetching that view's events (and, just after
    start-up, may not have drawn any yet): a click then lands on bare map. The move marks the map
    pane busy at once, so wait until it is not, and until an event's shape is the topmost thing
    at that point.
    """
    x, y = centre_map_on(page, lon, lat, zoom)
    wait_for_the_map(page)
    page.wait_for_function(
        "([x, y]) => document.elementFromPoint(x, y)?.classList.contains('event-feature')", arg=[x, y]
    )
    page.mouse.click(x, y)


def in_view_count(page: Any, live_server: Any, extra: str = "") -> int:
    """How many events the API has for the map's current bounds (plus ``extra`` query filters)."""
    bbox = page.evaluate(
        f"() => {{ const b = {THE_MAP}.getBounds();"
        " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(v => v.toFixed(5)).join(','); }"
    )
    with live_server.app.test_client() as client:
        return client.get(f"/api/events?bbox={bbox}{extra}").get_json()["numberMatched"]
