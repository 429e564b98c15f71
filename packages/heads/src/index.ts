// Downstream heads: linear classifier, segmentation head, detection head.
export {};
