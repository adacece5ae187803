/*
 * Building page content from data without ever treating text as HTML: elements are made with
 * createElement, text goes in as text nodes, attributes through setAttribute, and links are made
 * only for http(s) URLs. Event text is user data; every script that shows it builds its nodes here.
 *
 * Nothing here touches the document until a function is called.
 */

const SVG = "http://www.w3.org/2000/svg";

/** An element with attributes (null, undefined and false leave one out; true sets it empty) and
 * children (nodes, or anything else as text). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** An SVG element with attributes. */
export function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  return node;
}

export const byId = (id) => document.getElementById(id);

/** The URL if it is an absolute http(s) URL, else null (no javascript:, data: or relative links). */
export function safeUrl(url) {
  if (typeof url !== "string") return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch (e) {
    return null;
  }
}

/** A function that runs `fn` once calls have stopped for `ms` milliseconds, with the last arguments. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Resolves once the browser has painted what is on the page now, and then when it is idle (at
 * the latest after `timeoutMs`): for work that must not hold up what the visitor is waiting for. */
export function afterPaint(timeoutMs = 1000) {
  // A frame's callbacks run before it is painted: the second frame's come once the first is on screen.
  return new Promise((resolve) => {
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        if (window.requestIdleCallback) window.requestIdleCallback(() => resolve(), { timeout: timeoutMs });
        else setTimeout(resolve, 0);
      }),
    );
  });
}

/** Add a stylesheet to the page; resolves once it applies (or failed: unstyled is still usable). */
export function loadStylesheet(href) {
  return new Promise((resolve) => {
    const link = el("link", { rel: "stylesheet", href });
    link.addEventListener("load", resolve, { once: true });
    link.addEventListener("error", resolve, { once: true });
    document.head.append(link);
  });
}

/** Run a classic script (a library that sets a global); resolves once it has run, or failed. */
export function loadScript(src) {
  return new Promise((resolve) => {
    const script = el("script", { src });
    script.addEventListener("load", resolve, { once: true });
    script.addEventListener("error", resolve, { once: true });
    document.head.append(script);
  });
}

/** The JSON in a <script type="application/json"> block of the page. */
export const readJsonBlock = (id) => JSON.parse(byId(id).textContent);

/** The JSON in an element's data attribute, or null when it is missing or not JSON. */
export function jsonData(node, name) {
  const text = node.dataset[name];
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch (e) {
    return null;
  }
}

/**
 * Scroll `node` into view inside its nearest scrolling box, without ever scrolling the page: on a
 * phone the list lies far below the map, and a choice on the map must not jump the page down to it.
 */
export function revealInside(node) {
  let box = node.parentElement;
  while (box && box !== document.body) {
    const overflow = getComputedStyle(box).overflowY;
    if ((overflow === "auto" || overflow === "scroll") && box.scrollHeight > box.clientHeight) break;
    box = box.parentElement;
  }
  if (!box || box === document.body) return;
  const inner = node.getBoundingClientRect();
  const outer = box.getBoundingClientRect();
  if (inner.top < outer.top) box.scrollTop -= outer.top - inner.top;
  else if (inner.bottom > outer.bottom) box.scrollTop += Math.min(inner.bottom - outer.bottom, inner.top - outer.top);
}

/** Whether any of `node` is inside the window. */
export function onScreen(node) {
  const r = node.getBoundingClientRect();
  return r.height > 0 && r.bottom > 0 && r.top < window.innerHeight;
}
