/**
 * What the bot says. Pure: easy to change and to test.
 *
 * @param {string} text the message received
 * @param {string} author who sent it
 * @returns {string | null} the answer, or null to stay quiet
 */
export function answer(text, author) {
  const t = text.trim();
  if (t === '') return null;
  if (/^ping$/i.test(t)) return 'pong';
  if (/^(hi|hello|hey)\b/i.test(t)) return `Hello ${author}! Say "ping", or anything and I will echo it.`;
  if (/^help$/i.test(t)) return 'Commands: ping, hello, help. Anything else is echoed back.';
  return `You said: "${t}"`;
}
