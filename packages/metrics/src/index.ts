export * from './classification';
export * from './segmentation';
export * from './detection';
export * from './accumulators';
