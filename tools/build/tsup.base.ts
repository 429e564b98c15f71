import { defineConfig, type Options } from 'tsup';

/** Shared tsup settings: ESM + CJS + .d.ts, node target, deps kept external. */
export function g2dTsup(overrides: Partial<Options> = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    shims: true,
    splitting: false,
    outDir: 'dist',
    // never bundle tfjs or the native/wasm backends (optional deps are not external by default)
    external: [/^@tensorflow\//, /^@g2d-ts\//],
    ...overrides,
  });
}
