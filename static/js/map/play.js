/*
 * Play: walk the timeline's window through the story, a tenth of its width at a step, until it
 * reaches the last week with events, or the button is pressed again (Pause). Started where the
 * window already shows the end (the landing view shows the whole story), it first rewinds to the
 * story's start with a window a sixth of the story long, so there is something to walk through.
 * A progress bar shows how far through the story the window is. Each step is a new time window,
 * handed to `onStep(start, end)` as the Dates the window now spans.
 */

import { DAY, firstDay } from "../shared/dates.js";

const STEP_MS = 700;
const STEPS_PER_WINDOW = 10;
const WINDOWS_PER_STORY = 6; // a rewound window shows this share of the story
const SHORTEST_WINDOW = 14 * DAY;

/**
 * Where the window goes when Play starts: unchanged when there is story left after it, else back
 * to the start with a window of a sixth of the story (at least two weeks). Pure: Dates in and out.
 */
export function playStart(window, first, last) {
  if (window.end.getTime() < last.getTime()) return window;
  const span = Math.max(SHORTEST_WINDOW, (last - first) / WINDOWS_PER_STORY);
  return { start: new Date(first.getTime()), end: new Date(first.getTime() + span) };
}

/** How far through the story a window is, 0 to 1 (by its end). */
export function playProgress(window, first, last) {
  const whole = last - first;
  if (whole <= 0) return 1;
  return Math.min(1, Math.max(0, (window.end - first) / whole));
}

export function createPlayer({ button, progress, store, ui, timeline, onStep }) {
  let playing = null; // the interval while playing

  function story() {
    const weeks = store.weeks;
    if (!weeks.length) return null;
    return { first: firstDay(weeks[0].start), last: new Date(firstDay(weeks[weeks.length - 1].start).getTime() + 7 * DAY) };
  }

  function showProgress(window, bounds) {
    if (!progress) return;
    progress.hidden = false;
    progress.value = Math.round(100 * playProgress(window, bounds.first, bounds.last));
  }

  function stop() {
    clearInterval(playing);
    playing = null;
    button.textContent = ui.t("play");
    button.setAttribute("aria-pressed", "false");
  }

  function play() {
    const bounds = story();
    if (!bounds) return;
    button.textContent = ui.t("pause");
    button.setAttribute("aria-pressed", "true");
    const begin = playStart(timeline.window(), bounds.first, bounds.last);
    if (begin.start.getTime() !== timeline.window().start.getTime()) {
      timeline.moveWindow(begin.start, begin.end);
      onStep(begin.start, begin.end);
    }
    showProgress(timeline.window(), bounds);
    playing = setInterval(() => {
      const range = timeline.window();
      if (range.end.getTime() >= bounds.last.getTime()) {
        showProgress(range, bounds);
        return stop();
      }
      const step = (range.end - range.start) / STEPS_PER_WINDOW;
      const start = new Date(range.start.getTime() + step);
      const end = new Date(range.end.getTime() + step);
      timeline.moveWindow(start, end);
      onStep(start, end);
      showProgress({ start, end }, bounds);
    }, STEP_MS);
  }

  button.addEventListener("click", () => (playing ? stop() : play()));
  return { stop, playing: () => playing !== null };
}
