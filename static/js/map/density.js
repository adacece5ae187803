/*
 * The density strip above the timeline: matching events per week as bars, drawn for the window the
 * timeline shows, each with its count as a tooltip, a time axis under them, and the counts as the
 * strip's accessible label.
 *
 * An event known only to its month or year did not happen in that period's first week: when the
 * timeline holds every matching event (store.spans), each such event's weight is spread evenly
 * over the weeks of its whole period, so "2023" is a low band across 2023, not a spike in the week
 * of 26 December 2022. A story too big for that is drawn from the server's weekly counts.
 */

import { svgEl } from "../shared/dom.js";
import { DAY, afterLastDay, firstDay, isoDay } from "../shared/dates.js";

const HEIGHT = 56;
const AXIS = 14; // px under the bars for the ticks and their labels
const FALLBACK_WIDTH = 400; // before the strip has been laid out
const LABELLED_WEEKS = 60; // the accessible label names at most this many weeks
const WEEK = 7 * DAY;
const MONDAY_ZERO = Date.UTC(1969, 11, 29); // weeks start on Mondays, as the server's do
const MIN_TICK_PX = 56; // axis labels at least this far apart

/** The Monday (UTC midnight, ms) of the week holding a time. */
export const weekOf = (ms) => MONDAY_ZERO + Math.floor((ms - MONDAY_ZERO) / WEEK) * WEEK;

/**
 * Weekly weights of events (their properties: start, end, date_precision): a day event counts 1
 * in the week it starts, a month or year event counts 1 spread over its whole period, each week
 * getting the share of the period's days it holds. Returns [{ start: "YYYY-MM-DD", count }],
 * oldest first, weeks with no weight left out. Pure.
 */
export function spreadWeeks(events) {
  const weights = new Map();
  const add = (week, w) => weights.set(week, (weights.get(week) || 0) + w);
  for (const props of events) {
    const from = firstDay(props.start).getTime();
    if (props.date_precision === "day") {
      add(weekOf(from), 1);
      continue;
    }
    const until = afterLastDay(props.end || props.start, props.date_precision).getTime();
    const span = Math.max(until - from, DAY);
    for (let week = weekOf(from); week < until; week += WEEK) {
      const overlap = Math.min(week + WEEK, until) - Math.max(week, from);
      if (overlap > 0) add(week, overlap / span);
    }
  }
  return [...weights.entries()].sort((a, b) => a[0] - b[0]).map(([week, count]) => ({ start: isoDay(new Date(week)), count }));
}

/** Axis ticks for a window: month starts (or year starts, when months would crowd), as ms. */
export function axisTicks(from, until, width) {
  const months = Math.max(1, (until - from) / (30.4 * DAY));
  const step = [1, 2, 3, 6, 12, 24, 60].find((m) => (width / months) * m >= MIN_TICK_PX) || 120;
  const start = new Date(from);
  let year = start.getUTCFullYear();
  let month = start.getUTCMonth() + 1;
  const ticks = [];
  for (let i = 0; i < 400; i++) {
    if (month >= 12) {
      year += Math.floor(month / 12);
      month %= 12;
    }
    const t = Date.UTC(year, month, 1);
    if (t > until) break;
    if ((step >= 12 ? month === 0 && year % (step / 12) === 0 : month % step === 0) && t >= from) ticks.push(t);
    month += 1;
  }
  return { ticks, yearsOnly: step >= 12 };
}

export function createDensityStrip({ box, store, ui, timelineWindow }) {
  const monthLabel = new Intl.DateTimeFormat(ui.locale, { month: "short", timeZone: "UTC" });
  const yearLabel = new Intl.DateTimeFormat(ui.locale, { year: "numeric", timeZone: "UTC" });
  const share = new Intl.NumberFormat(ui.locale, { maximumFractionDigits: 1 });

  function draw() {
    const width = box.clientWidth || FALLBACK_WIDTH;
    const chart = svgEl("svg", { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, class: "density-chart" });
    const range = timelineWindow();
    const from = range.start.getTime();
    const span = Math.max(range.end.getTime() - from, DAY);
    const weeks = store.spans ? spreadWeeks(store.spans) : store.weeks;
    const most = Math.max(1e-9, ...weeks.map((w) => w.count));
    const barWidth = Math.max(1, (WEEK * width) / span - 1);
    const barsHeight = HEIGHT - AXIS;
    for (const week of weeks) {
      const x = ((firstDay(week.start).getTime() - from) / span) * width;
      if (x + barWidth < 0 || x > width) continue;
      const h = Math.max(1, (week.count / most) * (barsHeight - 2));
      const bar = svgEl("rect", {
        x: x.toFixed(1), y: (barsHeight - h).toFixed(1), width: barWidth.toFixed(1), height: h.toFixed(1),
        class: "density-bar", "data-week": week.start, "data-count": String(Math.round(week.count * 1000) / 1000),
      });
      const title = svgEl("title", {});
      title.textContent = ui.t("per_week", { count: share.format(week.count), date: ui.date(week.start, "day") });
      bar.append(title);
      chart.append(bar);
    }
    const axis = svgEl("g", { class: "density-axis", "aria-hidden": "true" });
    axis.append(svgEl("line", { x1: 0, x2: width, y1: barsHeight + 0.5, y2: barsHeight + 0.5, class: "density-tick" }));
    const { ticks, yearsOnly } = axisTicks(from, from + span, width);
    for (const t of ticks) {
      const x = ((t - from) / span) * width;
      axis.append(svgEl("line", { x1: x.toFixed(1), x2: x.toFixed(1), y1: barsHeight, y2: barsHeight + 4, class: "density-tick" }));
      const label = svgEl("text", { x: (x + 2).toFixed(1), y: HEIGHT - 2 });
      const when = new Date(t);
      label.textContent = yearsOnly || when.getUTCMonth() === 0 ? yearLabel.format(when) : monthLabel.format(when);
      axis.append(label);
    }
    chart.append(axis);
    box.replaceChildren(chart);
    const named = weeks.filter((w) => w.count >= 0.05).slice(0, LABELLED_WEEKS);
    box.setAttribute("aria-label", `${box.dataset.title || ""}: ${named.map((w) => `${w.start}: ${share.format(w.count)}`).join("; ")}`);
  }

  if (!box.dataset.title) box.dataset.title = box.getAttribute("aria-label") || "";
  return { draw };
}
