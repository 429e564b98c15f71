#!/usr/bin/env node
// pretrain: not implemented yet.
console.error('g2d-pretrain is not implemented yet');
process.exit(1);
