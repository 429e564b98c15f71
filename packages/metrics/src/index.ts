// Metrics as functions and accumulators: AUC, accuracy, F1, Dice, IoU, mAP, pointing game.
export {};
