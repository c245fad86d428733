/**
 * A populated tenant for the hostile suite: users (one a tenant admin), a channel, a message with a reply and a reaction, a flag, a second API key. `concrete` turns a
 * route sample of `test/http/routes.ts` into a request on these real ids, so a refusal the suite
 * expects is never explained by the id simply not existing.
 */
import {
  createChannel,
  createTenant,
  createUsers,
  type TestServer,
  type TestTenant,
  type TestUser,
  userClient,
} from '../harness.js';

export interface Seeded {
  t: TestTenant;
  /** `owner` created the channel; `member` (`<label>-u1`) is a plain member of it. */
  owner: TestUser;
  member: TestUser;
  channelId: string;
  messageId: string;
  replyId: string;
  keyId: string;
  flagId: string;
  /** A word only this tenant's message contains. */
  secret: string;
  /** `[sample, real]` replacements for route sample paths and bodies. */
  ids: [string, string][];
}

/**
 * Creates a tenant holding one of everything the routes name. Its ids start with `label`, so two
 * seeded tenants share none (a tenant naming the other's ids names ids it does not have).
 */
export async function seedTenant(h: TestServer, label: string): Promise<Seeded> {
  const t = await createTenant(h, `Hostile ${label}`);
  const [u1, u2] = [`${label}-u1`, `${label}-u2`];
  await createUsers(t, [`${label}-owner`, u1, u2, { id: `${label}-boss`, role: 'admin' }]);
  const owner = await userClient(t, `${label}-owner`);
  const member = await userClient(t, u1);
  const channelId = (await createChannel(owner.api, { id: `${label}-ch`, type: 'group', members: [u1, u2] })).id;
  const secret = `secret${label}word`;
  const sent = await owner.api.post(`/v1/channels/${channelId}/messages`, { text: `the ${secret}` });
  if (sent.status !== 201) throw new Error(`seed send: ${sent.status} ${JSON.stringify(sent.body)}`);
  const messageId: string = sent.body.message.id;
  const reply = await member.api.post(`/v1/channels/${channelId}/messages`, { text: 'a reply', parentId: messageId });
  const replyId: string = reply.body.message.id;
  await member.api.put(`/v1/channels/${channelId}/messages/${messageId}/reactions/like`);
  const keyId: string = (await t.api.post('/v1/keys')).body.apiKey.id;
  const flag = await member.api.post(`/v1/channels/${channelId}/messages/${messageId}/flags`, { reason: 'spam' });
  if (flag.status !== 201) throw new Error(`seed flag: ${flag.status} ${JSON.stringify(flag.body)}`);
  const flagId: string = flag.body.flag.id;
  return {
    t,
    owner,
    member,
    channelId,
    messageId,
    replyId,
    keyId,
    flagId,
    secret,
    ids: [
      ['ch-1', channelId],
      ['/u1', `/${u1}`],
      ['"u1"', `"${u1}"`],
      ['msg_1', messageId],
      ['flg_1', flagId],
      ['/keys/k1', `/keys/${keyId}`],
      ['/tenants/t1', `/tenants/${t.tenantId}`],
    ],
  };
}

/** A route sample's path and body with the placeholder ids replaced by `s`'s real ones. */
export function concrete<T>(s: Seeded, value: T): T {
  let text = JSON.stringify(value);
  if (text === undefined) return value;
  for (const [from, to] of s.ids) text = text.replaceAll(from, to);
  return JSON.parse(text) as T;
}
