/**
 * Message search. The channels searched are decided here, from the store: those the caller may
 * read (their memberships and the tenant's public channels, or one named channel they may read).
 * Counts and hits never include anything else, so search leaks nothing across channels or tenants.
 */
import type { Message } from '@natter/protocol';
import { invalid } from '../errors.js';
import type { SearchIndex } from '../ports/search.js';
import { actorUserId, canRead, channelFor, type TenantCtx } from './context.js';

/** Most channels one search spans. */
const MAX_CHANNELS = 2000;

export interface SearchInput {
  q: string;
  channelId?: string;
  /** With the backend's API key: search as this user. */
  userId?: string;
  limit: number;
  offset: number;
}

export interface SearchOutput {
  results: { message: Message; highlight: string }[];
  total: number;
}

async function readableChannels(ctx: TenantCtx, userId: string): Promise<string[]> {
  // Only what the caller's rules let them read (a tenant policy may deny some of these).
  const ids = new Set<string>();
  const seen = new Set<string>();
  let after: string | undefined;
  do {
    const page = await ctx.db.listMyChannels(userId, { limit: 200, ...(after ? { after } : {}) });
    for (const c of page.items) {
      seen.add(c.channel.id);
      if (canRead(ctx, c.channel, c.membership)) ids.add(c.channel.id);
    }
    after = page.next ?? undefined;
  } while (after && ids.size < MAX_CHANNELS);
  after = undefined;
  do {
    const page = await ctx.db.listPublicChannels({ limit: 200, ...(after ? { after } : {}) });
    for (const c of page.items) if (!seen.has(c.id) && canRead(ctx, c, null)) ids.add(c.id);
    after = page.next ?? undefined;
  } while (after && ids.size < MAX_CHANNELS);
  return [...ids];
}

export async function searchMessages(ctx: TenantCtx, index: SearchIndex, input: SearchInput): Promise<SearchOutput> {
  if (input.userId !== undefined && ctx.actor.kind !== 'server')
    throw invalid('userId', 'may only be set by the tenant backend');
  let channelIds: string[];
  if (input.channelId !== undefined) {
    await channelFor(ctx, input.channelId, 'read');
    channelIds = [input.channelId];
  } else {
    const userId = actorUserId(ctx.actor) ?? input.userId;
    if (!userId) throw invalid('channelId', 'or userId is required when the backend searches');
    channelIds = await readableChannels(ctx, userId);
  }
  const { hits, total } = await index.search(ctx.db.tenantId, {
    text: input.q,
    channelIds,
    limit: input.limit,
    offset: input.offset,
  });
  const results: SearchOutput['results'] = [];
  for (const hit of hits) {
    // The store is the truth: a message deleted after indexing is not shown.
    const message = await ctx.db.getMessage(hit.messageId);
    if (message && !message.deletedAt && channelIds.includes(message.channelId)) {
      results.push({ message, highlight: hit.highlight });
    }
  }
  return { results, total };
}
