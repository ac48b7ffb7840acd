/* Training and evaluation: minibatch training (SGD with momentum or AdamW,
 * constant or cosine learning rate, flips and 90-degree rotations, seeded),
 * device-precision fine-tuning with dynamic loss scaling, and mIoU in any
 * policy (DESIGN §4.3, §4.4). */
#ifndef LPNAS_TRAIN_H
#define LPNAS_TRAIN_H

#include "lpnas/data.h"
#include "lpnas/net.h"
#include "lpnas/scaler.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { LPNAS_OPT_SGD, LPNAS_OPT_ADAM } lpnas_optimizer;   /* append-only */
typedef enum { LPNAS_SCHED_CONSTANT, LPNAS_SCHED_COSINE } lpnas_schedule;

typedef struct {
    int step, steps;        /* done so far, budget */
    double loss;            /* of the last step */
    double scale;           /* loss scale (1 in fp32) */
    long skipped;           /* skipped steps so far */
    double images_per_s;
} lpnas_train_progress;

typedef struct {
    lpnas_optimizer optimizer; /* default Adam */
    double lr;                 /* default 3e-3 */
    double momentum;           /* SGD, default 0.9 */
    double weight_decay;       /* SGD: L2; Adam: decoupled (AdamW). default 1e-4 */
    lpnas_schedule schedule;   /* default cosine over `steps` */
    int steps;                 /* default 300 */
    int batch;                 /* <= the net's batch; default 16 */
    uint64_t seed;             /* shuffling and augmentation; default 1 */
    bool augment;              /* flips and 90-degree rotations; default true */
    /* FP32 training through the fold (frozen BN statistics, as device
     * fine-tuning always trains); default false: batch statistics */
    bool fold_bn;
    float pos_weight;          /* BCE weight of vessel pixels; default 10 */
    float dice_weight;         /* weight of the soft Dice term; default 1 */
    /* NULL or fp32: FP32 training. A device policy: fine-tuning with the
     * policy's forward, fp32 master weights and the loss scaler below. */
    const lpnas_policy *policy;
    lpnas_scaler_options scaler;
    void (*progress)(void *user, const lpnas_train_progress *p);
    void *user;
    int progress_every;        /* steps between callbacks; default 10 */
} lpnas_train_options;

typedef struct {
    int steps;            /* steps run */
    long skipped_steps;   /* steps skipped by the loss scaler (inf/NaN gradients) */
    double final_loss;
    double seconds;
    double final_scale;
} lpnas_train_result;

void lpnas_train_options_default(lpnas_train_options *o);
/* Trains on the tiles idx[0..n). A NaN/inf loss ends training with
 * LPNAS_ERR_NUMERIC (the message names the step); the net then holds the
 * weights of the last good step. */
lpnas_status lpnas_train(lpnas_net *net, const lpnas_dataset *d, const int *idx, int n, const lpnas_train_options *o,
                         lpnas_train_result *result);

typedef struct {
    double miou;          /* mean of background and vessel IoU */
    double vessel_iou, background_iou;
} lpnas_eval_result;

/* Deployed inference (BN folded) in the policy over tiles idx[0..n). */
lpnas_status lpnas_evaluate(lpnas_net *net, const lpnas_dataset *d, const int *idx, int n, const lpnas_policy *policy,
                            lpnas_eval_result *out);
/* Predicted masks (0/1) for one tile. */
lpnas_status lpnas_predict(lpnas_net *net, const float *image, const lpnas_policy *policy, uint8_t *mask);

#ifdef __cplusplus
}
#endif
#endif
