// Vision backbones (ResNet, ViT), U-Net decoder, AttentionPool2d and PyTorch weight import.
export {};
