"""Under the default style-src, which has no 'unsafe-inline' (CSP_STRICT_STYLES), Chromium reports no CSP
violation on the map (with a selection, and with the embed code shown), an event page, the embed,
and the editor's new, edit and history pages: every inline style the pages need is either a
``<style nonce>`` or set through the CSSOM (Leaflet's ``element.style``), never a ``style=""``
attribute."""

from __future__ import annotations

from typing import Any

import pytest
from visitor_fixtures import features, log_in, open_page, story_server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.backends("sqlite")]

# Every violation the page reports, as the browser's own event gives it (console messages can
# be throttled; the event is not).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective}: ${event.blockedURI || "inline"} `
    + `at ${event.sourceFile || location.pathname}:${event.lineNumber} ${event.sample || ""}`);
});
"""


@pytest.fixture(scope="module")
def server(story_server):  # noqa: F811
    # The default: nothing in the app's configuration turns the strict policy on.
    assert story_server.app.config["CSP_STRICT_STYLES"] is True
    return story_server


def violations_on(page: Any, url: str, then: Any = None) -> list[str]:
    page.goto(url, wait_until="networkidle")
    if then is not None:
        then(page)
    page.wait_for_timeout(300)
    found: list[str] = page.evaluate("window.__cspViolations")
    return found


def test_the_policy_is_strict(server):
    with server.app.test_client() as client:
        policy = client.get("/").headers["Content-Security-Policy"]
    style_src = next(part for part in policy.split("; ") if part.startswith("style-src"))
    assert "'unsafe-inline'" not in style_src and "'nonce-" in style_src


def test_visitor_pages_report_no_csp_violation(browser, server):
    page, recorder = open_page(browser)
    page.add_init_script(RECORD_VIOLATIONS)
    first = features(server)[0]["id"]

    def show_embed_code(page: Any) -> None:
        button = page.get_by_role("button", name="Embed")
        if button.count():
            button.first.click()

    found = {
        "/": violations_on(page, server.url + "/"),
        "/?sel": violations_on(page, server.url + f"/?sel={first}", show_embed_code),
        "/embed": violations_on(page, server.url + "/embed"),
        "/events/<id>": violations_on(page, server.url + f"/events/{first}"),
    }
    page.context.close()
    broken = {path: v for path, v in found.items() if v}
    assert not broken, "\n".join(f"{path}: {v}" for path, v in broken.items())
    assert [e for e in recorder.errors if "Content Security Policy" in e] == []


def test_editor_pages_report_no_csp_violation(browser, server):
    page, recorder = open_page(browser)
    page.add_init_script(RECORD_VIOLATIONS)
    log_in(page, server.url)
    first = features(server)[0]["id"]
    found = {
        "new": violations_on(page, server.url + "/edit/events/new"),
        "edit": violations_on(page, server.url + f"/edit/events/{first}"),
        "history": violations_on(page, server.url + f"/edit/events/{first}/history"),
        "dashboard": violations_on(page, server.url + "/edit/"),
    }
    page.context.close()
    broken = {path: v for path, v in found.items() if v}
    assert not broken, "\n".join(f"{path}: {v}" for path, v in broken.items())
    assert [e for e in recorder.errors if "Content Security Policy" in e] == []
