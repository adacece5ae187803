/*
 * Applying the address's view to the page: on the first load (when a link that cannot be read is
 * reported in the notice, and the page opens the default view) and on back and forward. While it
 * runs, its own side effects (map moves, refreshes) must not write a half-restored view back into
 * the address; a visitor who picks an event meanwhile (a slow network) keeps that choice.
 */

import { withKnownCategories } from "../shared/url-state.js";

export function createRestorer({ store, map, ui, address, controls, loader, timeline, density, selection, notice }) {
  function showNotice(problems) {
    if (!problems.length) {
      notice.hidden = true;
      return;
    }
    notice.textContent = ui.t("bad_link", { problem: problems.join(", ") });
    notice.hidden = false;
  }

  /** Returns whether the visitor chose an event while it ran (their choice then stands). */
  async function restoreView(first) {
    const read = address.read();
    const { view: next, mapView, problems } = first ? withKnownCategories(read, store.categories) : read;
    const view = store.view; // changed in place: every part holds this very object
    const selectedBefore = view.sel;
    Object.assign(view, { start: next.start, end: next.end, categories: next.categories, confidences: next.confidences, q: next.q, vp: next.vp, region: next.region, country: next.country });
    controls.show();
    // reset: Leaflet would otherwise pan by whole pixels to a centre within one screen, landing a
    // fraction of a pixel off the address it restores.
    if (mapView) map.setView([mapView.lat, mapView.lon], mapView.z, { animate: false, reset: true });
    if (first) showNotice(problems);
    // All three at once: the map and the list need not wait for the weekly counts.
    await Promise.all([loader.refreshDensity(), loader.refreshMap(), loader.refreshTimeline()]);
    if (view.start || view.end) timeline.showViewWindow();
    density.draw();
    // A visitor who picked an event while the view was loading keeps it: their click is newer
    // than the address they came with.
    if (view.sel !== selectedBefore) return true;
    if (next.sel !== selectedBefore || first) await selection.select(next.sel, mapView ? "restore-view" : "restore");
    return false;
  }

  /** Apply the address's view; `first`: the page's first load. */
  async function restore(first) {
    store.restoring = true;
    let chosenMeanwhile = false;
    try {
      chosenMeanwhile = await restoreView(first);
    } finally {
      store.restoring = false;
    }
    // What the visitor picked while the view was loading is now part of the view: put it in the address.
    if (chosenMeanwhile) address.write(false);
  }

  return { restore };
}
