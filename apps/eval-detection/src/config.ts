/**
 * The detection run's config: the shared evaluation keys (@g2d-ts/eval) plus the YOLOv3-style
 * head (anchors, loss, NMS), its training recipe and the outputs. The protocol fixes the head
 * on frozen C3–C5 features, mAP over IoU 0.4–0.75 and NMS at 0.5; epochs, batch and learning
 * rate are sized for a CPU run.
 */
import { z } from 'zod';
import { CommonConfigShape, fitRecipeShape } from '@g2d-ts/eval';

const DataSchema = CommonConfigShape.data
  .removeDefault()
  .extend({
    /**
     * box classes: 'labels' = one class per box label (NIH's 8 findings, the synthetic
     * findings), 'single' = every box one class ("finding"; Object-CXR's shape labels are
     * always merged); 'auto' = single for rsna-pneumonia and object-cxr, labels otherwise
     */
    boxClasses: z.enum(['auto', 'labels', 'single']).default('auto'),
  })
  .strict()
  .default({});

export const DetConfigSchema = z
  .object({
    ...CommonConfigShape,
    data: DataSchema,
    det: z
      .object({
        /** 'kmeans' on the training boxes (falls back to 'yolov3' with fewer than 9 distinct sizes) or YOLOv3's defaults scaled */
        anchors: z.enum(['kmeans', 'yolov3']).default('kmeans'),
        /** 'giou' (1 − GIoU) or YOLOv3's 'xywh' squared errors */
        boxLoss: z.enum(['giou', 'xywh']).default('giou'),
        ignoreThreshold: z.number().gt(0).max(1).default(0.5),
        /** YOLOv3's top-down route between the levels */
        topDown: z.boolean().default(true),
        /** NMS IoU threshold (the protocol: 0.5) */
        nmsIou: z.number().min(0).max(1).default(0.5),
        /** detections below this score are dropped (and not in predictions.csv) */
        scoreThreshold: z.number().min(0).lt(1).default(0.01),
        maxDetections: z.number().int().positive().default(100),
        /** IoU thresholds of the mAP (the protocol: 0.4, 0.45, …, 0.75) */
        iouThresholds: z.array(z.number().gt(0).max(1)).min(1).default([0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75]),
      })
      .strict()
      .default({}),
    /** the training recipe (AdamW; keeps the epoch with the best validation mAP by default) */
    train: z.object(fitRecipeShape({ epochs: 30, batchSize: 16, lr: 5e-4, valEvery: 2 })).strict().default({}),
    output: z
      .object({
        /** overlay images for this many test images (spread over the test set) */
        overlays: z.number().int().min(0).default(12),
        /** boxes drawn per overlay: the best this many detections above `overlayScore` */
        overlayBoxes: z.number().int().min(0).default(5),
        overlayScore: z.number().min(0).max(1).default(0.1),
      })
      .strict()
      .default({}),
  })
  .strict();

export type DetConfig = z.output<typeof DetConfigSchema>;
