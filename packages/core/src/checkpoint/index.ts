// Checkpoint I/O (PyTorch zip/pickle and safetensors) lands here (vision issue); see README.
export {};
