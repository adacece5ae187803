/*
 * The map page's address: its view is written into the URL (a new history entry for what the
 * visitor chose, a replaced one for what follows from it, such as map moves) and read back from it.
 * The pure rules are in shared/url-state.js; this binds them to the page's location and map.
 */

import { linkTo, readView } from "../shared/url-state.js";

export function createAddress({ store, map, config }) {
  const mapView = () => {
    const centre = map.getCenter();
    return { z: map.getZoom(), lat: centre.lat, lon: centre.lng };
  };

  /** A link to `base` (a path or a whole URL) showing the current view. */
  const linkFor = (base) => linkTo(base, store.view, mapView());

  /** Put the current view in the address: `push` makes a new history entry. */
  function write(push) {
    if (store.restoring) return;
    const url = linkFor(window.location.pathname);
    if (url === window.location.pathname + window.location.search) return;
    if (push) window.history.pushState(null, "", url);
    else window.history.replaceState(null, "", url);
  }

  /** The view the address holds: { view, mapView, problems }. */
  const read = () =>
    readView(window.location.search, { confidences: config.confidences, maxZoom: config.maxZoom, searchMaxLength: config.searchMaxLength });

  return { linkFor, write, read };
}
