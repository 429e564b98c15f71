// The parameter-free processor that turns attention maps into pseudo segmentation masks.
export {};
