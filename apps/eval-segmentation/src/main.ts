#!/usr/bin/env node
// eval-segmentation: not implemented yet.
console.error('g2d-eval-segmentation is not implemented yet');
process.exit(1);
