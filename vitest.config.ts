import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Packages are tested from their sources: no build step before `npm test`.
const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@natter/protocol': src('./packages/protocol/src/index.ts'),
      '@natter/server': src('./packages/server/src/index.ts'),
      '@natter/client': src('./packages/client-sdk/src/index.ts'),
    },
  },
  test: {
    include: ['packages/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
