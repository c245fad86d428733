/**
 * Small JSON-over-HTTP helper for setup calls (loopback only) and a bounded-concurrency map.
 */
export async function http(method, url, { body, auth, bearer, headers = {} } = {}) {
  const h = { ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  if (auth) h.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  if (bearer) h.authorization = `Bearer ${bearer}`;
  const res = await fetch(url, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  if (!res.ok) throw new Error(`${method} ${url} → ${res.status}: ${text.slice(0, 300)}`);
  return json;
}

/** Runs `fn(item, index)` over items with at most `limit` in flight; returns results in order. */
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(lanes);
  return out;
}
