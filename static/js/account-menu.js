/*
 * The signed-in top bar, wherever its links (Edit, Custom places, the admin pages, Log out) would
 * not fit on its one line (a phone, or a German admin's bar on a laptop): they fold behind one
 * "Account" button. Where they fit, the button is not shown and the links stand in the bar
 * (app.css). Without this script the links simply wrap.
 *
 * The button says whether the links are shown (aria-expanded) and names the list it opens
 * (aria-controls); Escape closes it and gives focus back to the button, and so does moving focus
 * or clicking outside it.
 */

const bar = document.querySelector(".topbar");
const toggle = bar && bar.querySelector(".account-toggle");
const nav = toggle && document.getElementById(toggle.getAttribute("aria-controls"));

function setOpen(open, { focusButton = false } = {}) {
  toggle.setAttribute("aria-expanded", String(open));
  bar.classList.toggle("account-open", open);
  if (!open && focusButton) toggle.focus();
}

const PHONE = window.matchMedia("(max-width: 800px)");

/** Fold the links when the bar shows them on more than one line: it is measured both ways. */
function fold() {
  bar.classList.add("account-folded");
  if (PHONE.matches) return;
  const folded = bar.getBoundingClientRect().height;
  bar.classList.remove("account-folded");
  const open = bar.getBoundingClientRect().height;
  if (open > folded + 2) bar.classList.add("account-folded");
  else setOpen(false);
}

if (nav) {
  bar.classList.add("has-account-menu");
  toggle.hidden = false;
  fold();
  let pending = false;
  window.addEventListener("resize", () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      fold();
    });
  });
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    setOpen(open);
    if (open) nav.querySelector("a, button")?.focus();
  });
  for (const part of [toggle, nav]) {
    part.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        e.preventDefault();
        setOpen(false, { focusButton: true });
      }
    });
  }
  // Leaving the menu (Tab past its last link, a tap elsewhere) closes it.
  document.addEventListener("focusin", (e) => {
    if (!toggle.contains(e.target) && !nav.contains(e.target)) setOpen(false);
  });
  document.addEventListener("pointerdown", (e) => {
    if (!toggle.contains(e.target) && !nav.contains(e.target)) setOpen(false);
  });
}
