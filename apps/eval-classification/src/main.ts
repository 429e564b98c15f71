#!/usr/bin/env node
// eval-classification: not implemented yet.
console.error('g2d-eval-classification is not implemented yet');
process.exit(1);
