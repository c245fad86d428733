/**
 * The presence contract: every PresenceStore adapter passes this suite against its real engine.
 * `create()` twice gives two nodes where the engine is shared (`crossNode: true`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { PresenceStore } from '../../src/ports/presence.js';

export function runPresenceContract(options: {
  name: string;
  create: () => Promise<PresenceStore>;
  crossNode: boolean;
}): void {
  describe(`presence contract: ${options.name}`, () => {
    const open: PresenceStore[] = [];
    const make = async () => {
      const p = await options.create();
      open.push(p);
      return p;
    };
    const tenant = () => `t-${Math.random().toString(36).slice(2)}`;
    afterAll(async () => {
      await Promise.all(open.map((p) => p.close()));
    });

    it('is online from the first connection until the last one goes', async () => {
      const p = await make();
      const t = tenant();
      expect(await p.connect(t, 'ann', 'c1')).toBe(true);
      expect(await p.connect(t, 'ann', 'c2')).toBe(false);
      expect(await p.online(t, ['ann', 'bob'])).toEqual(new Set(['ann']));
      expect(await p.disconnect(t, 'ann', 'c1')).toBe(false);
      expect(await p.online(t, ['ann'])).toEqual(new Set(['ann']));
      expect(await p.disconnect(t, 'ann', 'c2')).toBe(true);
      expect(await p.online(t, ['ann'])).toEqual(new Set());
    });

    it('ignores unknown disconnects and keeps tenants apart', async () => {
      const p = await make();
      const [a, b] = [tenant(), tenant()];
      expect(await p.disconnect(a, 'ann', 'nope')).toBe(false);
      await p.connect(a, 'ann', 'c1');
      expect(await p.online(b, ['ann'])).toEqual(new Set());
      expect(await p.online(a, [])).toEqual(new Set());
    });

    it.runIf(options.crossNode)('counts connections on every node', async () => {
      const [n1, n2] = [await make(), await make()];
      const t = tenant();
      expect(await n1.connect(t, 'ann', 'c1')).toBe(true);
      expect(await n2.connect(t, 'ann', 'c2')).toBe(false);
      expect(await n1.disconnect(t, 'ann', 'c1')).toBe(false);
      expect(await n1.online(t, ['ann'])).toEqual(new Set(['ann']));
      expect(await n2.disconnect(t, 'ann', 'c2')).toBe(true);
      expect(await n1.online(t, ['ann'])).toEqual(new Set());
    });
  });
}
