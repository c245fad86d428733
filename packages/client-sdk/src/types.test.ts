/**
 * Type tests of the public API (checked by `tsc --noEmit -p packages/client-sdk`; vitest runs
 * them as no-ops), including custom fields typed by module augmentation.
 */

import {
  type ChannelHandle,
  type ChannelState,
  type ClientSnapshot,
  ConnectionState,
  createClient,
  type Message,
  type NatterClient,
  type NatterClientError,
  type StateChange,
  SubscriptionState,
  UnauthorizedError,
  type User,
  type WebSocketConstructor,
} from '@natter/client';
import type { ErrorCode, Message as WireMessage } from '@natter/protocol';
import { describe, expectTypeOf, it } from 'vitest';
import WebSocket from 'ws';

declare module '@natter/client' {
  interface CustomMessageData {
    priority?: number;
  }
  interface CustomUserData {
    department?: string;
  }
}

declare const client: NatterClient;
declare const channel: ChannelHandle;

/** Type-checked by tsc, never run: the calls would touch the network. */
function typeOnly(_check: () => void): void {}

describe('public types', () => {
  it('createClient takes url, getToken and an optional WebSocket (browser or ws)', () =>
    typeOnly(() => {
      expectTypeOf(createClient).parameter(0).toHaveProperty('getToken');
      expectTypeOf(createClient).returns.toEqualTypeOf<NatterClient>();
      expectTypeOf(WebSocket).toMatchTypeOf<WebSocketConstructor>();
      expectTypeOf(globalThis.WebSocket).toMatchTypeOf<WebSocketConstructor>();
      // @ts-expect-error url is required
      createClient({ getToken: () => 't' });
    }));

  it('states are string unions with constant objects', () =>
    typeOnly(() => {
      expectTypeOf(client.state).toEqualTypeOf<'disconnected' | 'connecting' | 'connected'>();
      expectTypeOf(ConnectionState.Connected).toEqualTypeOf<'connected'>();
      expectTypeOf<ChannelState['status']>().toEqualTypeOf<'unsubscribed' | 'subscribing' | 'subscribed'>();
      expectTypeOf(SubscriptionState.Subscribed).toEqualTypeOf<'subscribed'>();
    }));

  it('events are typed by name', () =>
    typeOnly(() => {
      client.on('state', (change) => expectTypeOf(change).toEqualTypeOf<StateChange>());
      client.on('message.new', (data) => {
        expectTypeOf(data.channelId).toEqualTypeOf<string>();
        expectTypeOf(data.message).toEqualTypeOf<Message>();
      });
      client.on('presence.changed', (data) => {
        expectTypeOf(data).toHaveProperty('online').toEqualTypeOf<boolean>();
        // @ts-expect-error presence is not a channel event
        data.channelId;
      });
      client.on('error', (err) => expectTypeOf(err).toEqualTypeOf<NatterClientError>());
      channel.on('typing.start', ({ userId }) => expectTypeOf(userId).toEqualTypeOf<string>());
      // @ts-expect-error unknown event
      client.on('message.sent', () => {});
      // @ts-expect-error presence is not a channel's event
      channel.on('presence.changed', () => {});
    }));

  it('channel calls return stored messages and take a string or a body', () =>
    typeOnly(() => {
      expectTypeOf(channel.send).parameter(0).toEqualTypeOf<string | import('@natter/client').MessageInput>();
      expectTypeOf(channel.send('hi')).resolves.toEqualTypeOf<Message>();
      expectTypeOf(channel.reply('m1', 'hi')).resolves.toEqualTypeOf<Message>();
      expectTypeOf(channel.watch()).resolves.toEqualTypeOf<ChannelState>();
      expectTypeOf(channel.history({ before: 10 })).resolves.toEqualTypeOf<Message[]>();
      expectTypeOf(channel.typing()).toEqualTypeOf<void>();
      // @ts-expect-error limit is a number
      channel.history({ limit: '5' });
    }));

  it('the store exposes immutable snapshots', () =>
    typeOnly(() => {
      expectTypeOf(client.store.getSnapshot()).toEqualTypeOf<ClientSnapshot>();
      expectTypeOf(client.store.subscribe(() => {})).toEqualTypeOf<() => void>();
      const snap = client.store.getSnapshot();
      // @ts-expect-error snapshots are read-only
      snap.channels = {};
      expectTypeOf(snap.channels.general?.messages).toEqualTypeOf<readonly Message[] | undefined>();
    }));

  it('errors carry protocol codes; UnauthorizedError is an Error', () =>
    typeOnly(() => {
      expectTypeOf<NatterClientError['code']>().toEqualTypeOf<ErrorCode>();
      expectTypeOf<NatterClientError['retryable']>().toEqualTypeOf<boolean>();
      expectTypeOf(new UnauthorizedError('x')).toMatchTypeOf<Error>();
    }));

  it('custom fields follow module augmentation', () =>
    typeOnly(() => {
      expectTypeOf<Message['custom']['priority']>().toEqualTypeOf<number | undefined>();
      expectTypeOf<User['custom']['department']>().toEqualTypeOf<string | undefined>();
      channel.send({ text: 'x', custom: { priority: 2, other: true } });
      // @ts-expect-error priority is a number
      channel.send({ text: 'x', custom: { priority: 'high' } });
      // The wire model stays untyped.
      expectTypeOf<WireMessage['custom']>().toEqualTypeOf<Record<string, unknown>>();
    }));
});
