/**
 * Moderation state that authorization decides from. Built by the moderation service from the
 * store (bans, mutes, blocks, slow mode) for one actor and one channel, and passed to the policy.
 * Pure data: no I/O here.
 */
export interface Restrictions {
  /** Banned tenant-wide or in this channel (until the ban expires): may not read or act. */
  banned: boolean;
  /** Muted tenant-wide or in this channel: may read, may not send, react or type. */
  muted: boolean;
  /**
   * In a direct channel: the other member blocked the actor, so the actor may not send there.
   * (Blocking never hides history.)
   */
  blockedByPeer: boolean;
  /** Slow mode: seconds the actor must still wait before sending here (0 when free to send). */
  slowModeWait: number;
}

export const NO_RESTRICTIONS: Restrictions = Object.freeze({
  banned: false,
  muted: false,
  blockedByPeer: false,
  slowModeWait: 0,
});
