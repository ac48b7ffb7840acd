/* Internal: segmentation losses on logits (one logit per pixel, vessel
 * probability sigmoid(z)), and their gradients w.r.t. the logits.
 *   BCE with positive weight w (vessels are ~2 % of pixels), mean over pixels:
 *     l = -[w*y*log(sig(z)) + (1-y)*log(1-sig(z))]
 *       = (1-y)*z + (1 + (w-1)*y) * softplus(-z)       (stable for any z)
 *     dl/dz = ((1 + (w-1)*y) * sig(z) - w*y) / M ... see loss.c
 *   soft Dice on p = sig(z) over the whole batch:
 *     D = 1 - (2*sum(p*y) + eps) / (sum(p) + sum(y) + eps)
 *   combined: bce_weight * BCE + dice_weight * Dice.
 * Computed in fp32/fp64 from device-format logits under any policy (DESIGN
 * §4.3): the loss is a host-side quantity. */
#ifndef LPNAS_KERNELS_LOSS_H
#define LPNAS_KERNELS_LOSS_H

#include <stddef.h>
#include <stdint.h>

#include "lpnas/core.h"

typedef struct {
    float pos_weight;  /* BCE weight of vessel pixels, e.g. 10 */
    float bce_weight;  /* 1 */
    float dice_weight; /* 1 */
    float dice_eps;    /* 1 */
} lpnas_loss_params;

lpnas_loss_params lpnas_loss_params_default(void);
lpnas_status lpnas_loss_check(const lpnas_loss_params *p);

/* masks: 0/1 per pixel; n pixels. Returns the loss; writes dlogits (may be
 * NULL) = d loss / d logits (overwritten, not added: the loss is the root). */
double lpnas_loss_bce(float *dlogits, const float *logits, const uint8_t *mask, size_t n, float pos_weight);
double lpnas_loss_dice(float *dlogits, const float *logits, const uint8_t *mask, size_t n, float eps);
double lpnas_loss_combined(float *dlogits, const float *logits, const uint8_t *mask, size_t n,
                           const lpnas_loss_params *p, float *scratch /* n floats, used if dlogits */);

#endif
