/**
 * @g2d-ts/viz — results people can look at, as plain strings and bytes (no browser, no tfjs
 * calls, deterministic output):
 *
 * - SVG charts: `lineChart` (training curves), `barChart` (scores with error bars),
 *   `rocChart`, `histogramChart`.
 * - RGBA rasters: `grayToRgba`, `overlayHeatmap`, `overlayMask`, `drawBox`, `tile`,
 *   `resizeRgba`, and `encodePng` / `pngDataUri`.
 * - Reports: `htmlPage` (one self-contained offline file) with `htmlTable`, `figure`,
 *   `imageGrid`…, and `markdownTable` for results.md.
 */
export { lineChart, emaSmooth, type LineChartOptions, type LineSeries, type Point } from './charts/line';
export { barChart, type Bar, type BarChartOptions } from './charts/bar';
export { rocChart, type RocChartOptions, type RocCurve } from './charts/roc';
export { histogram, histogramChart, type HistogramChartOptions, type HistogramNormalize, type HistogramResult, type HistogramSeries } from './charts/histogram';
export { PALETTE, seriesColor } from './frame';
export { linearAxis, logAxis, niceStep, type Axis } from './scale';
export { colormap, colormapTable, COLORMAPS, type ColormapName } from './colormap';
export {
  checkRgba, createRgba, drawBox, fitRgba, grayImageToRgba, grayToRgba, maskBoundary, overlayHeatmap, overlayMask, resizeBilinearPlane, resizeRgba, tile,
  type Color, type GrayToRgbaOptions, type HeatmapOptions, type MaskOptions, type Plane, type Rgba,
} from './raster';
export { encodePng, pngDataUri, svgDataUri } from './png';
export {
  details, escapeHtml, figure, figureRow, html, htmlPage, htmlTable, imageGrid, imageSrc, isHtml, keyValueTable, paragraph, preformatted, rawHtml, renderContent,
  type Align, type Cell, type FigureOptions, type GridCell, type Html, type HtmlContent, type ImageSource, type PageOptions, type Section, type TableOptions,
} from './html';
export { escapeMarkdownCell, formatMeanStd, markdownTable, meanStd, type MarkdownTableOptions } from './markdown';
export { base64, escapeXml, formatSig } from './util';
