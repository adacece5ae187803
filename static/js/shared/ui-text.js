/*
 * Interface text in the visitor's language: the server translates the strings a script shows
 * (timeline/web/pages.py, _ui_text) and the script fills in their %(name)s placeholders here.
 *
 * Pure: translator() takes the strings; a key without a string shows as itself, so a missing
 * translation is visible rather than blank.
 */

export function translator(strings) {
  return (key, params) =>
    (strings[key] || key).replace(/%\((\w+)\)s/g, (_, name) => (params && name in params ? String(params[name]) : ""));
}
