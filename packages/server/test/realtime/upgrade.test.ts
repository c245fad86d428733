/**
 * Authentication at the WebSocket upgrade: a bad credential or a refused Origin is answered with
 * an HTTP error and never upgraded; a good token works from the query and from a subprotocol.
 */
import { randomBytes } from 'node:crypto';
import { type IncomingMessage, request } from 'node:http';
import { CloseCode, REALTIME_PATH, SUBPROTOCOL } from '@natter/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';
import { signingSecret, signToken, type World, world } from './helpers.js';
import { connect, refusedUpgrade } from './ws-client.js';

let h: TestServer;
let w: World;
let other: World;
beforeAll(async () => {
  h = await startTestServer();
  w = await world(h, ['ann', 'bob', 'gone']);
  other = await world(h, ['ann', 'zed']);
});
afterAll(() => h.close());

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

describe('refused upgrades answer HTTP 401 with a JSON error, never 101', () => {
  it('no token', async () => {
    const refused = await refusedUpgrade(h.url, null);
    expect({ status: refused.status, code: refused.code }).toEqual({ status: 401, code: 'NATTER_AUTH_MISSING' });
  });

  it('a garbage token, in the query and as a subprotocol', async () => {
    for (const via of ['query', 'protocol'] as const) {
      const refused = await refusedUpgrade(h.url, 'not-a-jwt', { via });
      expect({ status: refused.status, code: refused.code }).toEqual({ status: 401, code: 'NATTER_AUTH_INVALID' });
    }
  });

  it('an expired token', async () => {
    const secret = await signingSecret(h, w.t.tenantId);
    const token = await signToken(secret, { tid: w.t.tenantId, sub: 'ann', iat: nowS() - 120, exp: nowS() - 60 });
    const refused = await refusedUpgrade(h.url, token);
    expect({ status: refused.status, code: refused.code }).toEqual({ status: 401, code: 'NATTER_AUTH_EXPIRED' });
  });

  it("a token naming this tenant but signed with another tenant's secret", async () => {
    const foreign = await signingSecret(h, other.t.tenantId);
    const token = await signToken(foreign, { tid: w.t.tenantId, sub: 'ann', exp: nowS() + 600 });
    const refused = await refusedUpgrade(h.url, token);
    expect({ status: refused.status, code: refused.code }).toEqual({ status: 401, code: 'NATTER_AUTH_INVALID' });
  });

  it('an alg:none token', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ tid: w.t.tenantId, sub: 'ann', iss: 'natter', iat: nowS(), exp: nowS() + 600 })}.`;
    const refused = await refusedUpgrade(h.url, token);
    expect({ status: refused.status, code: refused.code }).toEqual({ status: 401, code: 'NATTER_AUTH_INVALID' });
  });

  it('the token of a deleted user; a connected socket of that user is closed with 4003', async () => {
    const live = await w.connect('gone');
    expect((await w.t.api.delete('/v1/users/gone')).status).toBe(204);
    expect(await live.closed).toMatchObject({ code: CloseCode.TOKEN_INVALID });
    const refused = await refusedUpgrade(h.url, w.users.gone!.token);
    expect({ status: refused.status, code: refused.code }).toEqual({ status: 401, code: 'NATTER_AUTH_INVALID' });
  });

  it('the token of a deleted tenant; its connected sockets are closed with 4003', async () => {
    const doomed = await world(h, ['ann']);
    const live = await doomed.connect('ann');
    const bystander = await w.connect('ann');
    expect((await h.admin.delete(`/v1/admin/tenants/${doomed.t.tenantId}`)).status).toBe(204);
    expect(await live.closed).toMatchObject({ code: CloseCode.TOKEN_INVALID });
    expect(bystander.isClosed).toBe(false);
    await bystander.close();
    const refused = await refusedUpgrade(h.url, doomed.users.ann!.token);
    expect({ status: refused.status, code: refused.code }).toEqual({ status: 401, code: 'NATTER_AUTH_INVALID' });
  });
});

describe('allowed origins', () => {
  it('with allowedOrigins set, a wrong or missing Origin gets 403 and the right one connects', async () => {
    const t = await world(h, ['ann']);
    const res = await h.admin.patch(`/v1/admin/tenants/${t.t.tenantId}`, {
      settings: { allowedOrigins: ['https://app.example.com'] },
    });
    expect(res.status).toBe(200);
    for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.io', undefined]) {
      const refused = await refusedUpgrade(h.url, t.users.ann!.token, origin === undefined ? {} : { origin });
      expect({ origin, status: refused.status, code: refused.code }).toEqual({
        origin,
        status: 403,
        code: 'NATTER_AUTH_ORIGIN_FORBIDDEN',
      });
    }
    const ok = await t.connect('ann', { origin: 'https://app.example.com' });
    expect(ok.welcome.user.id).toBe('ann');
    await ok.close();
  });

  it('without allowedOrigins any Origin (or none) connects', async () => {
    for (const origin of ['https://anything.example', 'null', undefined]) {
      const c = await w.connect('bob', origin === undefined ? {} : { origin });
      expect(c.welcome.user.id).toBe('bob');
      await c.close();
    }
  });
});

describe('accepted upgrades', () => {
  it('the token works in the query and as a subprotocol; the server selects only natter.v1', async () => {
    const token = w.users.ann!.token;
    for (const via of ['query', 'protocol'] as const) {
      const c = await connect(h.url, token, { via });
      expect(c.protocol).toBe(SUBPROTOCOL);
      expect(c.upgradeHeaders['sec-websocket-protocol']).toBe(SUBPROTOCOL);
      expect(JSON.stringify(c.upgradeHeaders)).not.toContain(token);
      expect(c.welcome).toMatchObject({
        type: 'welcome',
        v: 1,
        user: { id: 'ann' },
        limits: { maxFrameBytes: 65_536, framesPerSecond: 50, replayMax: 1000 },
      });
      expect(JSON.stringify(c.welcome)).not.toContain(token);
      await c.close();
    }
  });

  it('offered only the bearer entry, the server upgrades without selecting it', async () => {
    const token = w.users.ann!.token;
    const url = new URL(h.url);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({
        host: url.hostname,
        port: url.port,
        path: REALTIME_PATH,
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': randomBytes(16).toString('base64'),
          'sec-websocket-protocol': `bearer.${token}`,
        },
      });
      req.on('upgrade', (response, socket) => {
        socket.destroy();
        resolve(response);
      });
      req.on('response', resolve);
      req.on('error', reject);
      req.end();
    });
    expect(res.statusCode).toBe(101);
    expect(res.headers['sec-websocket-protocol'] ?? '').toBe('');
    expect(JSON.stringify(res.headers)).not.toContain(token);
  });

  it("a token from another tenant connects as that tenant's user", async () => {
    const c = await other.connect('zed');
    expect(c.welcome.user.id).toBe('zed');
    await c.close();
  });
});
