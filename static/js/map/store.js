/*
 * Everything the map page knows that more than one part of it reads: the view (the state the
 * address holds), the story's categories, the density per week, the story's size and whether a
 * view is being restored from the address. One object, made once by the page's entry and handed
 * to each part, so no module keeps state of its own at module level.
 */

import { emptyView } from "../shared/url-state.js";

const UNKNOWN_CATEGORY_COLOUR = "#555555";

export function createStore() {
  return {
    view: emptyView(), // the time window, filters, selection and timeline scope (see url-state.js)
    categories: new Map(), // slug -> { slug, label, colour }, from /api/categories
    places: [], // [{ code, name, count, regions: [{ code, name, count }] }], from /api/regions
    weeks: [], // [{ start, count }]: matching events per week, for the density strip and Play
    spans: null, // the properties of every matching event, when the timeline holds them all (density)
    totalEvents: null, // events in the whole story, unfiltered (counted once)
    restoring: false, // while the address's view is being applied, it must not be written back
  };
}

/** A category's label and colour; one the API did not list shows its slug in grey. */
export const categoryOf = (store, slug) => store.categories.get(slug) || { slug, label: slug, colour: UNKNOWN_CATEGORY_COLOUR };
