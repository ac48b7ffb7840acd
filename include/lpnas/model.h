/* Model files: a trained network (architecture string, policy name, input
 * normalization, fp32 weights, BN statistics), zlib-compressed with a CRC-32.
 * Wrong magic or version, truncation and corruption give clear errors. */
#ifndef LPNAS_MODEL_H
#define LPNAS_MODEL_H

#include "lpnas/net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* policy_name: the policy the weights were trained/fine-tuned for ("fp32", "myriadx", ...). */
lpnas_status lpnas_model_save(lpnas_net *net, const char *policy_name, const char *path);
/* Creates a net planned for `batch` images of the saved tile size. */
lpnas_status lpnas_model_load(const char *path, int batch, lpnas_net **net, char *policy_name, size_t policy_cap);

#ifdef __cplusplus
}
#endif
#endif
