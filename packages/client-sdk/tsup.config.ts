import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  // Browsers of the last few years and Node 20.
  target: 'es2022',
  minify: true,
  clean: true,
  sourcemap: true,
  // The protocol's types and the few constants used are bundled: the SDK has no runtime dependency.
  noExternal: ['@natter/protocol'],
  // Internals marked @internal stay out of the published types.
  dts: { resolve: ['@natter/protocol'], compilerOptions: { stripInternal: true } },
});
