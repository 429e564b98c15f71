#!/usr/bin/env node
// eval-zeroshot: not implemented yet.
console.error('g2d-eval-zeroshot is not implemented yet');
process.exit(1);
