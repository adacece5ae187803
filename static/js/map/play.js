/*
 * Play: slide the timeline's window forward through time, a tenth of its width at a step, until
 * it reaches the last week with events (or the button is pressed again). Each step is a new time
 * window, handed to `onStep(start, end)` as the Dates the window now spans.
 */

import { DAY, firstDay } from "../shared/dates.js";

const STEP_MS = 700;
const STEPS_PER_WINDOW = 10;

export function createPlayer({ button, store, ui, timeline, onStep }) {
  let playing = null; // the interval while playing

  function stop() {
    clearInterval(playing);
    playing = null;
    button.textContent = ui.t("play");
    button.setAttribute("aria-pressed", "false");
  }

  function play() {
    const weeks = store.weeks;
    const last = weeks.length ? firstDay(weeks[weeks.length - 1].start).getTime() + 7 * DAY : Date.now();
    button.textContent = ui.t("pause");
    button.setAttribute("aria-pressed", "true");
    playing = setInterval(() => {
      const range = timeline.window();
      const step = (range.end - range.start) / STEPS_PER_WINDOW;
      if (range.end.getTime() >= last) return stop();
      const start = new Date(range.start.getTime() + step);
      const end = new Date(range.end.getTime() + step);
      timeline.moveWindow(start, end);
      onStep(start, end);
    }, STEP_MS);
  }

  button.addEventListener("click", () => (playing ? stop() : play()));
}
