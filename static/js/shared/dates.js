/*
 * Dates at their own precision (a year, a month or a day), the way the API gives them: ISO text such
 * as "2024", "2024-10" or "2024-10-05". The map page, its list, its details panel and its density
 * strip all read and show dates through these functions, so a month is a month everywhere.
 *
 * Pure: no DOM, no clock; every date is a UTC day, so no time zone can shift one.
 */

export const DAY = 86400000;

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The first day an ISO date covers, at midnight UTC ("2024-10" is 1 October 2024). */
export function firstDay(iso) {
  const [year, month, day] = iso.split("-").map(Number);
  const when = new Date(Date.UTC(year, (month || 1) - 1, day || 1));
  when.setUTCFullYear(year); // Date.UTC reads the years 0–99 as 1900–1999
  return when;
}

/** The day after the last day an ISO date at its precision covers (an exclusive end). */
export function afterLastDay(iso, precision) {
  const start = firstDay(iso);
  if (precision === "year") return new Date(Date.UTC(start.getUTCFullYear() + 1, 0, 1));
  if (precision === "month") return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  return new Date(start.getTime() + DAY);
}

/** The UTC day of a Date as ISO text, "2024-10-05". */
export const isoDay = (date) => date.toISOString().slice(0, 10);

/** Whether text is a real calendar day written YYYY-MM-DD (not "2024-02-30", not "2024-10"). */
export function isIsoDay(text) {
  if (typeof text !== "string" || !ISO_DAY.test(text)) return false;
  const when = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(when.getTime()) && isoDay(when) === text;
}

/** Date formatting in one language: `date(iso, precision)` and `when(properties)` (a range too). */
export function dateFormat(locale) {
  const formats = {
    day: new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }),
    month: new Intl.DateTimeFormat(locale, { month: "long", year: "numeric", timeZone: "UTC" }),
    year: new Intl.DateTimeFormat(locale, { year: "numeric", timeZone: "UTC" }),
  };
  const date = (iso, precision) => (formats[precision] || formats.day).format(firstDay(iso));
  const when = (props) => {
    const start = date(props.start, props.date_precision);
    return props.end ? `${start} – ${date(props.end, props.date_precision)}` : start;
  };
  return { date, when };
}
