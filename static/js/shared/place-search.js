/*
 * A place box with autocomplete from the offline gazetteer (/api/places): the visitor's "find a
 * place" on the map page, and the editor's place name field. It follows the ARIA combobox pattern:
 * the input is a combobox that owns a listbox of options; ArrowDown and ArrowUp move the active
 * option (aria-activedescendant, focus stays in the box), Enter chooses it, Escape closes the list
 * (and, when it is already closed, leaves the text alone for the page's own Escape), and a click or
 * tap on an option chooses it too.
 *
 * Place names are gazetteer data: they go in with textContent.
 */

const DEBOUNCE_MS = 150;
const LIMIT = 8;
let serial = 0; // ids for the listboxes of several boxes on one page

/** The text an option shows: the place's label, then its region and country when they add anything. */
export function optionText(properties) {
  const parts = [properties.label || properties.name];
  for (const extra of [properties.region, properties.country_label]) {
    if (extra && !parts.includes(extra)) parts.push(extra);
  }
  return parts.join(", ");
}

/** How close the map goes to show a chosen place: a country, a region, a city, a village. */
export function placeZoom(properties) {
  if (properties.kind === "country") return 5;
  if (properties.kind === "region") return 7;
  const population = properties.population || 0;
  if (population >= 1_000_000) return 10;
  if (population >= 50_000) return 11;
  return 13;
}

/** The next active option for a key: wraps at both ends; -1 is "none" (the text itself). */
export function nextActive(current, count, key) {
  if (!count) return -1;
  if (key === "ArrowDown") return current >= count - 1 ? 0 : current + 1;
  if (key === "ArrowUp") return current <= 0 ? count - 1 : current - 1;
  if (key === "Home") return 0;
  if (key === "End") return count - 1;
  return current;
}

/**
 * Make `input` a place combobox. `url` is the page config's urls.places; `lang` the language of
 * the labels; `context()` may answer {near: [lon, lat]} and/or {bbox: [w, s, e, n]} to rank places
 * near the map first; `onChoose(feature)` gets the chosen GeoJSON Feature. Answers {close}.
 */
export function createPlaceSearch({ input, url, lang, context = () => ({}), onChoose, noMatchText = "" }) {
  const id = `place-options-${++serial}`;
  const listbox = document.createElement("ul");
  listbox.id = id;
  listbox.className = "place-options";
  listbox.setAttribute("role", "listbox");
  if (input.labels && input.labels[0]) listbox.setAttribute("aria-label", input.labels[0].textContent.trim());
  listbox.hidden = true;
  input.after(listbox);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", id);
  input.setAttribute("autocomplete", "off");

  let found = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  function show(features) {
    found = features;
    active = -1;
    listbox.replaceChildren();
    features.forEach((feature, index) => {
      const option = document.createElement("li");
      option.id = `${id}-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.textContent = optionText(feature.properties);
      // mousedown, not click: the box keeps focus (a blur would close the list first).
      option.addEventListener("mousedown", (e) => {
        e.preventDefault();
        choose(index);
      });
      listbox.append(option);
    });
    if (!features.length && noMatchText && input.value.trim()) {
      const empty = document.createElement("li");
      empty.className = "place-options-empty";
      empty.setAttribute("role", "option");
      empty.setAttribute("aria-disabled", "true");
      empty.textContent = noMatchText;
      listbox.append(empty);
    }
    const open = listbox.children.length > 0;
    listbox.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
    input.removeAttribute("aria-activedescendant");
  }

  function close() {
    clearTimeout(timer);
    asked++; // an answer still on its way is not shown
    found = [];
    active = -1;
    listbox.hidden = true;
    listbox.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function activate(index) {
    active = index;
    [...listbox.children].forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) {
      const option = listbox.children[index];
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  }

  function choose(index) {
    const feature = found[index];
    if (!feature) return;
    input.value = feature.properties.label || feature.properties.name;
    close();
    onChoose(feature);
  }

  async function ask() {
    const text = input.value.trim();
    if (!text) {
      close();
      return;
    }
    const mine = ++asked;
    const params = new URLSearchParams({ q: text, limit: String(LIMIT), lang });
    const where = context() || {};
    if (where.near) params.set("near", where.near.map((n) => n.toFixed(4)).join(","));
    if (where.bbox) params.set("bbox", where.bbox.map((n) => n.toFixed(4)).join(","));
    try {
      const response = await fetch(`${url}?${params}`, { headers: { Accept: "application/geo+json" } });
      const body = response.ok ? await response.json() : { features: [] };
      if (mine === asked && document.activeElement === input) show(body.features || []);
    } catch (e) {
      console.warn("place search failed", e);
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(ask, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (e) => {
    const open = !listbox.hidden && found.length > 0;
    if (["ArrowDown", "ArrowUp"].includes(e.key) || (open && ["Home", "End"].includes(e.key) && active >= 0)) {
      e.preventDefault();
      if (!open) {
        ask();
        return;
      }
      activate(nextActive(active, found.length, e.key));
    } else if (e.key === "Enter") {
      if (!open) return;
      e.preventDefault(); // choosing a place never submits the form
      choose(active >= 0 ? active : 0);
    } else if (e.key === "Escape") {
      if (listbox.hidden) return;
      e.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 0));
  return { close };
}
