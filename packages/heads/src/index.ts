/**
 * @g2d-ts/heads: the downstream heads (linear classifier, segmentation head, detection head).
 * Nothing is implemented yet: the package exports nothing (the evaluation issues add them).
 */
export {};
