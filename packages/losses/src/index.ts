// G2D losses: CLIP-style vision-language alignment and pseudo-segmentation losses.
export {};
