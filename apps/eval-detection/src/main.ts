#!/usr/bin/env node
// eval-detection: not implemented yet.
console.error('g2d-eval-detection is not implemented yet');
process.exit(1);
