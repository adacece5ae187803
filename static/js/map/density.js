/*
 * The density strip above the timeline: matching events per week as bars, drawn for the window the
 * timeline shows, each with its count as a tooltip, and the counts as the strip's accessible label.
 */

import { svgEl } from "../shared/dom.js";
import { DAY, firstDay } from "../shared/dates.js";

const HEIGHT = 40;
const FALLBACK_WIDTH = 400; // before the strip has been laid out
const LABELLED_WEEKS = 60; // the accessible label names at most this many weeks

export function createDensityStrip({ box, store, ui, timelineWindow }) {
  function draw() {
    const width = box.clientWidth || FALLBACK_WIDTH;
    const chart = svgEl("svg", { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, class: "density-chart" });
    const range = timelineWindow();
    const from = range.start.getTime();
    const span = Math.max(range.end.getTime() - from, DAY);
    const weeks = store.weeks;
    const most = Math.max(1, ...weeks.map((w) => w.count));
    const barWidth = Math.max(1, (7 * DAY * width) / span - 1);
    for (const week of weeks) {
      const x = ((firstDay(week.start).getTime() - from) / span) * width;
      if (x + barWidth < 0 || x > width) continue;
      const h = Math.max(2, (week.count / most) * (HEIGHT - 2));
      const bar = svgEl("rect", { x: x.toFixed(1), y: (HEIGHT - h).toFixed(1), width: barWidth.toFixed(1), height: h.toFixed(1), class: "density-bar" });
      const title = svgEl("title", {});
      title.textContent = ui.t("per_week", { count: ui.number(week.count), date: ui.date(week.start, "day") });
      bar.append(title);
      chart.append(bar);
    }
    box.replaceChildren(chart);
    box.setAttribute("aria-label", weeks.map((w) => `${w.start}: ${w.count}`).slice(0, LABELLED_WEEKS).join("; "));
  }

  return { draw };
}
