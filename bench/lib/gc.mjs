/**
 * Full garbage collection in a Node server under test, through its inspector (started with
 * `--inspect=127.0.0.1:0` for the idle workload only), so an RSS reading is not inflated by garbage
 * the server has not collected yet, nor deflated when it collects the setup's garbage later.
 */
import WebSocket from 'ws';

/** The inspector's WebSocket URL from the server's output, or null. */
export function inspectorUrl(output) {
  return /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(output)?.[1] ?? null;
}

/** Runs HeapProfiler.collectGarbage `times` times; resolves false when it could not. */
export function forceGc(url, times = 2) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let id = 0;
    const timer = setTimeout(() => {
      ws.terminate();
      resolve(false);
    }, 15000);
    const next = () => ws.send(JSON.stringify({ id: ++id, method: 'HeapProfiler.collectGarbage' }));
    ws.on('open', next);
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.id !== id) return;
      if (id < times) return next();
      clearTimeout(timer);
      ws.close();
      resolve(true);
    });
    ws.on('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
