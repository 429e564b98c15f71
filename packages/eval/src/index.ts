/**
 * @g2d-ts/eval: the conventions every G2D evaluation app shares (README: the API note).
 *
 * - options: `COMMON_OPTIONS` (the flags), `CommonConfigShape`/`CommonConfigSchema`,
 *   `parseCommonFlags`, `resolveEvalConfig` (defaults < --config < --set < flags);
 * - encoder: `resolveEncoder` (preset = random weights; path = our folder or a reference
 *   checkpoint; none = runs/pretrain-demo/final when present, else random), `weightsHash`;
 * - data: `loadEvalData` / `loadDataset` / `makeSplits` (patient-level split, dataset splits,
 *   --test folders, label fractions), `imageName` (predictions.csv's `image`);
 * - preprocessing: `transformFor(model.config)`, `loadPreprocessed`, `toInputTensor`, `loadImages`;
 * - features: `extractFeatures` with the on-disk `RowCache` (encoder hash + dataset + transform + kind);
 * - metrics: `classificationMetrics` (per-class AUC/null, best F1 + ACC there, ACC@0.5, top-1), `rocCurve`;
 * - results: `writeResultsJson`, `writePredictionsCsv`, `paperTableMarkdown`, `writeResultsMd`, plots;
 * - grid: `readGridSpec`, `gridCells`, `aggregateGrid`, `gridAggregateCommand` (tools/nx-eval-grid makes the nx targets).
 */
export * from './options';
export * from './encoder';
export * from './data';
export * from './cache';
export * from './preprocess';
export * from './features';
export * from './metrics';
export * from './results';
export * from './plots';
export * from './grid';
export * from './run';
export * from './dense';
export * from './app';
export * from './recipe';
