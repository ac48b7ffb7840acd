/* Networks in integer policies (issue 17): calibration of activation
 * ranges and access to the integer outputs. Forward, backward and inference
 * in an integer policy go through lpnas_net_forward / _backward / _infer as
 * for any policy, once the network is calibrated (docs/numerics.md
 * "Integer inference", docs/engine.md). */
#ifndef LPNAS_QNET_H
#define LPNAS_QNET_H

#include "lpnas/net.h"
#include "lpnas/quant.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    lpnas_calib_method method; /* default LPNAS_CALIB_MINMAX */
    double percentile;         /* PERCENTILE: share of values inside the range, in percent (default 99.99) */
    int max_samples;           /* values kept per tensor for PERCENTILE and MSE (default 65536) */
} lpnas_calib_options;

void lpnas_calib_options_default(lpnas_calib_options *o);
/* Runs the FP32 deployed network (BN folded with its running statistics,
 * activations fused) on n images (any n >= 1; in batches of the plan's) and
 * sets every activation tensor's scale and zero point for the integer
 * policy (the input's too). Post-training quantization of a trained
 * network is this call followed by lpnas_net_infer in the policy. Weight
 * scales follow the weights at every fold (max |w| per channel). */
lpnas_status lpnas_net_calibrate(lpnas_net *net, const float *images, int n, const lpnas_policy *policy,
                                 const lpnas_calib_options *o);
bool lpnas_net_is_calibrated(const lpnas_net *net);
/* After an integer forward or inference: the head's int8 codes
 * (n x 1 x H x W) with their scale and zero point; the float logits
 * returned by the forward are scale * (code - zp). */
lpnas_status lpnas_net_int_output(const lpnas_net *net, const int8_t **codes, float *scale, int32_t *zp);
/* Node i's activation scale and zero point (graph order, as the layer list). */
lpnas_status lpnas_net_act_quant(const lpnas_net *net, int node, float *scale, int32_t *zp);

#ifdef __cplusplus
}
#endif
#endif
