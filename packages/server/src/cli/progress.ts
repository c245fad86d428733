/**
 * Progress of a long command: a bar redrawn in place on a terminal, plain percentage lines
 * otherwise (logs, CI), so a redirected output stays readable.
 */

/** Receives the progress of a job of known size. */
export interface Progress {
  /** The job has `total` units (0 is allowed). */
  start(total: number): void;
  /** `n` more units are done. */
  advance(n: number): void;
  /** The job is over: shows 100% and ends the line. */
  finish(): void;
}

/** Where progress is written: a stream, a terminal when `isTTY`. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Shown before the bar or percentage, e.g. `reindex`. */
  label: string;
  /** Units shown after the counts. @default 'items' */
  unit?: string;
  /** Least time between two redraws of the bar, in ms. @default 100 */
  redrawMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

/** A progress that shows nothing. */
export const silentProgress: Progress = { start() {}, advance() {}, finish() {} };

/**
 * A bar (`label [#####-----]  50% 500/1000 items`) when the stream is a terminal, else one
 * line per 10% (`label: 50% (500/1000 items)`).
 * @example const progress = createProgress(process.stderr, { label: 'reindex', unit: 'messages' });
 */
export function createProgress(stream: ProgressStream, options: ProgressOptions): Progress {
  const { label, unit = 'items', redrawMs = 100, now = Date.now } = options;
  let total = 0;
  let done = 0;
  let lastDraw = -Infinity;
  let lastTenth = -1;
  let finished = false;

  // More can be done than announced (messages sent while the job runs): never past 100%.
  const percent = () => (total === 0 ? 100 : Math.min(100, Math.floor((done * 100) / total)));
  const counts = () => `${done}/${Math.max(total, done)} ${unit}`;

  const drawBar = () => {
    const p = percent();
    const tail = ` ${String(p).padStart(3)}% ${counts()}`;
    const width = Math.max(10, Math.min(40, (stream.columns || 80) - label.length - tail.length - 4));
    const filled = Math.round((width * p) / 100);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${tail}`);
  };
  const printLine = () => {
    const tenth = Math.floor(percent() / 10);
    if (tenth <= lastTenth) return;
    lastTenth = tenth;
    stream.write(`${label}: ${percent()}% (${counts()})\n`);
  };
  const show = (force: boolean) => {
    if (!stream.isTTY) return printLine();
    const t = now();
    if (!force && t - lastDraw < redrawMs) return;
    lastDraw = t;
    drawBar();
  };

  return {
    start(n) {
      total = Math.max(0, n);
      done = 0;
      lastTenth = -1;
      finished = false;
      show(true);
    },
    advance(n) {
      done += n;
      show(false);
    },
    finish() {
      if (finished) return;
      finished = true;
      total = Math.max(total, done);
      done = total;
      show(true);
      if (stream.isTTY) stream.write('\n');
    },
  };
}
