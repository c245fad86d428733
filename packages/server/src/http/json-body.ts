/**
 * The JSON body parser: fastify's own (which refuses `__proto__` and `constructor.prototype`
 * keys), behind two checks fastify leaves out. Bytes that are not UTF-8 are refused instead of
 * being read as U+FFFD, and so is text with lone surrogates (see `domain/unicode.ts`): what a
 * client sends is stored exactly, or refused naming the field.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { illFormedPath, mayHoldLoneSurrogate } from '../domain/unicode.js';
import { invalid } from '../errors.js';

export function registerJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) {
      done(invalid('body', 'is not valid UTF-8'), undefined);
      return;
    }
    const text = bytes.toString('utf8');
    parse(request, text, (err, value) => {
      if (err) return done(err, undefined);
      const at = mayHoldLoneSurrogate(text) ? illFormedPath(value) : null;
      if (at !== null) {
        const field = at ? `body.${at}` : 'body';
        return done(invalid(field, 'is not well-formed Unicode (it holds a lone UTF-16 surrogate)'), undefined);
      }
      done(null, value);
    });
  });
}
