/* Internal: binary segmentation metrics accumulated over batches.
 * A pixel is predicted vessel when its logit > 0 (from logits) or its
 * probability > 0.5 (from probabilities): the same decision. IoU of a class
 * = TP / (TP + FP + FN) for that class; a class absent from both truth and
 * prediction over everything accumulated has IoU 1 (nothing to get wrong).
 * mIoU = mean of the background and vessel IoU. */
#ifndef LPNAS_KERNELS_METRICS_H
#define LPNAS_KERNELS_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t tp, fp, fn, tn; /* for the vessel class */
} lpnas_confusion;

void lpnas_confusion_reset(lpnas_confusion *c);
void lpnas_confusion_add_logits(lpnas_confusion *c, const float *logits, const uint8_t *mask, size_t n);
void lpnas_confusion_add_probs(lpnas_confusion *c, const float *probs, const uint8_t *mask, size_t n);
double lpnas_iou_vessel(const lpnas_confusion *c);
double lpnas_iou_background(const lpnas_confusion *c);
double lpnas_miou(const lpnas_confusion *c);

#endif
