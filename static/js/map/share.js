/*
 * Sharing the current view: "Copy link" copies its address, "Copy embed code" an <iframe> of the
 * embeddable page showing it, and the embedded page's "Open the full map" link opens it on the
 * full page. The iframe is built as an element and serialised, never assembled as an HTML string.
 */

import { byId, el } from "../shared/dom.js";

export function wireSharing({ address, config, ui }) {
  const copied = byId("copied");
  async function copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      copied.textContent = ui.t("copied");
    } catch (e) {
      copied.textContent = `${ui.t("copy_failed")} ${text}`;
    }
  }
  const copyLink = byId("copy-link");
  if (copyLink) {
    copyLink.addEventListener("click", () => copy(address.linkFor(new URL(window.location.pathname, window.location.href).href)));
    byId("copy-embed").addEventListener("click", () => {
      const src = address.linkFor(new URL(config.urls.embed, window.location.href).href);
      const code = el("iframe", { src, width: "100%", height: "600", loading: "lazy", title: "Timeline Map" });
      // The border goes into the copied text only: a style attribute set on an element, even one
      // never shown, is refused by a style-src without 'unsafe-inline'.
      copy(code.outerHTML.replace("<iframe ", '<iframe style="border:0" '));
    });
  }
  const openFull = byId("open-full");
  if (openFull) openFull.addEventListener("click", () => openFull.setAttribute("href", address.linkFor(config.urls.home)));
}
