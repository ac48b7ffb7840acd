/* Losses on logits (gradients against central differences, stability at
 * extreme logits, exact values) and IoU metrics on hand-built masks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "gradcheck.h"
#include "kernels/loss.h"
#include "kernels/metrics.h"

struct ctx {
    const float *z;
    const uint8_t *y;
    size_t n;
    lpnas_loss_params p;
    int which;
};

static double lossf(void *v)
{
    struct ctx *c = v;
    if (c->which == 0)
        return lpnas_loss_bce(NULL, c->z, c->y, c->n, c->p.pos_weight);
    if (c->which == 1)
        return lpnas_loss_dice(NULL, c->z, c->y, c->n, c->p.dice_eps);
    return lpnas_loss_combined(NULL, c->z, c->y, c->n, &c->p, NULL);
}

START_TEST(gradients)
{
    size_t n = 300;
    float *z = malloc(n * 4), *d = malloc(n * 4), *scratch = malloc(n * 4);
    uint8_t *y = malloc(n);
    uint64_t s = 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        z[i] = (float)((double)(s >> 11) * 0x1p-53 * 8 - 4);
        y[i] = (s >> 7) % 10 == 0; /* ~10 % vessel */
    }
    lpnas_loss_params p = lpnas_loss_params_default();
    ck_assert_int_eq(lpnas_loss_check(&p), LPNAS_OK);
    for (int which = 0; which < 3; which++) {
        struct ctx c = {z, y, n, p, which};
        if (which == 0)
            lpnas_loss_bce(d, z, y, n, p.pos_weight);
        else if (which == 1)
            lpnas_loss_dice(d, z, y, n, p.dice_eps);
        else
            lpnas_loss_combined(d, z, y, n, &p, scratch);
        lpnas_gradcheck_options o = lpnas_gradcheck_defaults();
        o.h = 1e-2, o.rtol = 1e-3, o.atol = 1e-7;
        ck_assert_uint_eq(lpnas_gradcheck("loss", lossf, &c, z, d, n, &o), 0);
    }
    free(z), free(d), free(scratch), free(y);
}
END_TEST

START_TEST(values_and_stability)
{
    float z[4] = {30, -30, 0, 100};
    uint8_t y[4] = {1, 0, 1, 0};
    float d[4];
    /* BCE of confident correct logits ~ 0, finite for extreme ones */
    double l = lpnas_loss_bce(d, z, y, 2, 1);
    ck_assert(l >= 0 && l < 1e-12);
    l = lpnas_loss_bce(d, z + 3, y + 3, 1, 1); /* confidently wrong: loss = 100 */
    ck_assert(fabs(l - 100) < 1e-9 && isfinite(d[0]));
    /* z = 0, y = 1, pos_weight w: w * log 2 */
    l = lpnas_loss_bce(d, z + 2, y + 2, 1, 10);
    ck_assert(fabs(l - 10 * log(2.0)) < 1e-9);
    ck_assert(fabs(d[0] - (-5.0f)) < 1e-6); /* -(w)(1 - 0.5) */
    /* Dice: perfect prediction ~ 0, all wrong ~ 1 */
    float zz[4] = {50, 50, -50, -50};
    uint8_t yy[4] = {1, 1, 0, 0}, ny[4] = {0, 0, 1, 1};
    ck_assert(lpnas_loss_dice(NULL, zz, yy, 4, 1) < 1e-9);
    ck_assert(fabs(lpnas_loss_dice(NULL, zz, ny, 4, 1) - (1 - 1.0 / 5.0)) < 1e-9);
    lpnas_loss_params p = lpnas_loss_params_default();
    p.pos_weight = NAN;
    ck_assert_int_eq(lpnas_loss_check(&p), LPNAS_ERR_ARG);
    p = lpnas_loss_params_default();
    p.bce_weight = p.dice_weight = 0;
    ck_assert_int_eq(lpnas_loss_check(&p), LPNAS_ERR_ARG);
    p = lpnas_loss_params_default();
    p.dice_eps = -1;
    ck_assert_int_eq(lpnas_loss_check(&p), LPNAS_ERR_ARG);
}
END_TEST

START_TEST(iou_metrics)
{
    /* 8 pixels: truth 1 1 1 0 0 0 0 0, prediction 1 1 0 1 0 0 0 0
     * vessel: TP 2, FP 1, FN 1 -> 2/4; background: TP 4, FP 1, FN 1 -> 4/6 */
    uint8_t truth[8] = {1, 1, 1, 0, 0, 0, 0, 0};
    float logits[8] = {3, 1, -1, 2, -5, -2, -3, -1};
    float probs[8];
    for (int i = 0; i < 8; i++)
        probs[i] = logits[i] > 0 ? 0.9f : 0.1f;
    lpnas_confusion c, c2, both;
    lpnas_confusion_reset(&c);
    lpnas_confusion_add_logits(&c, logits, truth, 8);
    ck_assert(lpnas_iou_vessel(&c) == 0.5);
    ck_assert(fabs(lpnas_iou_background(&c) - 4.0 / 6.0) < 1e-15);
    ck_assert(fabs(lpnas_miou(&c) - (0.5 + 4.0 / 6.0) / 2) < 1e-15);
    lpnas_confusion_reset(&c2);
    lpnas_confusion_add_probs(&c2, probs, truth, 8);
    ck_assert(memcmp(&c, &c2, sizeof c) == 0);
    /* accumulating two batches equals one batch of both */
    lpnas_confusion_reset(&both);
    lpnas_confusion_add_logits(&both, logits, truth, 4);
    lpnas_confusion_add_logits(&both, logits + 4, truth + 4, 4);
    ck_assert(memcmp(&c, &both, sizeof c) == 0);
    /* no vessel anywhere, none predicted: vessel IoU 1 by definition */
    uint8_t none[4] = {0};
    float neg[4] = {-1, -1, -1, -1};
    lpnas_confusion_reset(&c);
    lpnas_confusion_add_logits(&c, neg, none, 4);
    ck_assert(lpnas_iou_vessel(&c) == 1 && lpnas_miou(&c) == 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("loss_metrics");
    TCase *t = lpnas_tcase("loss_metrics");
    tcase_add_test(t, gradients);
    tcase_add_test(t, values_and_stability);
    tcase_add_test(t, iou_metrics);
    suite_add_tcase(s, t);
    return s;
}

LPNAS_TEST_MAIN(suite)
