/*
 * The signed-in top bar on a phone: its links (Edit, Custom places, the admin pages, Log out) fold
 * behind one "Account" button, so the bar stays one line; on wider screens the button is not shown
 * and the links stand in the bar as before (app.css). Without this script the links simply wrap.
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

if (nav) {
  bar.classList.add("has-account-menu");
  toggle.hidden = false;
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
