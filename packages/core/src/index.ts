export * from './errors';
export * from './registry';
export * from './rng';
export * from './config';
export * from './backend';
export * from './doctor';
export * from './checkpoint';
export * from './hub';
