#include "kernels/metrics.h"

void lpnas_confusion_reset(lpnas_confusion *c)
{
    c->tp = c->fp = c->fn = c->tn = 0;
}

static void add(lpnas_confusion *c, int pred, int truth)
{
    c->tp += (uint64_t)(pred && truth);
    c->fp += (uint64_t)(pred && !truth);
    c->fn += (uint64_t)(!pred && truth);
    c->tn += (uint64_t)(!pred && !truth);
}

void lpnas_confusion_add_logits(lpnas_confusion *c, const float *logits, const uint8_t *mask, size_t n)
{
    for (size_t i = 0; i < n; i++)
        add(c, logits[i] > 0, mask[i] != 0);
}

void lpnas_confusion_add_probs(lpnas_confusion *c, const float *probs, const uint8_t *mask, size_t n)
{
    for (size_t i = 0; i < n; i++)
        add(c, probs[i] > 0.5f, mask[i] != 0);
}

static double iou(uint64_t tp, uint64_t fp, uint64_t fn)
{
    uint64_t d = tp + fp + fn;
    return d ? (double)tp / (double)d : 1.0;
}

double lpnas_iou_vessel(const lpnas_confusion *c) { return iou(c->tp, c->fp, c->fn); }
/* background: its true positives are the vessel true negatives; its false
 * positives are vessel false negatives and vice versa */
double lpnas_iou_background(const lpnas_confusion *c) { return iou(c->tn, c->fn, c->fp); }
double lpnas_miou(const lpnas_confusion *c) { return 0.5 * (lpnas_iou_vessel(c) + lpnas_iou_background(c)); }
