/**
 * Headless Chromium through playwright-core, using the system's browser (Debian's `chromium`
 * package): no browser download, and a missing browser is an error, never a skipped test.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { type Browser, chromium } from 'playwright-core';

/**
 * The browser binary.
 * @default '/usr/bin/chromium' (override with `NATTER_CHROMIUM`)
 */
// biome-ignore lint/suspicious/noUndeclaredEnvVars: read by vitest at run time, not an input of a turbo task.
export const chromiumPath = process.env.NATTER_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags for a machine without outside network: the background-networking ones stop Chromium
 * from dialing Google services, whose refused connections otherwise slow or break the run.
 */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Launches headless Chromium; throws a clear error (with the fix) when it is not installed. */
export async function launchChromium(timeoutMs = 30_000): Promise<Browser> {
  try {
    await access(chromiumPath, constants.X_OK);
  } catch {
    throw new Error(
      `Chromium is not installed at ${chromiumPath}: run: apt-get install -y chromium (or set NATTER_CHROMIUM to a Chromium binary).`,
    );
  }
  return chromium.launch({ executablePath: chromiumPath, args: ARGS, timeout: timeoutMs });
}
