/**
 * @g2d-ts/core: the foundation every other package builds on. Backend selection and the
 * environment report, typed errors, registries, the seeded RNG, typed YAML configs, CLI
 * argument parsing, archives (ZIP/tar), pretrained input configs (`NormalizationConfig`),
 * checkpoint I/O (PyTorch .pth, safetensors), the Hugging Face hub cache and atomic file writes. Test helpers
 * live in `@g2d-ts/core/testing`.
 */
export * from './errors';
export * from './registry';
export * from './rng';
export * from './config';
export * from './backend';
export * from './doctor';
export * from './cli-args';
export * from './archive';
export * from './normalization';
export * from './checkpoint';
export * from './hub';
export * from './fs-atomic';
export * from './native-ops';
