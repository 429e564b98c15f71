// Composes the G2D model: image U-Net + projection + attention pooling, text encoder + projection.
export {};
