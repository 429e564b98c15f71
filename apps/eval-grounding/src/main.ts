#!/usr/bin/env node
// eval-grounding: not implemented yet.
console.error('g2d-eval-grounding is not implemented yet');
process.exit(1);
