/* Internal: what exporters need from a network besides the public API --
 * the node graph the engine runs and the folded weights its deployed
 * inference uses, so an exported model is the engine's network, never a
 * second description of it. */
#ifndef LPNAS_LIB_NET_INTERNAL_H
#define LPNAS_LIB_NET_INTERNAL_H

#include "lib/graph.h"
#include "lpnas/net.h"

const lpnas_graph *lpnas_net_graph(const lpnas_net *net);
/* For tests that need a graph the builder never makes (unsupported nodes). */
lpnas_graph *lpnas_net_graph_mut(lpnas_net *net);
/* True if node i is a BN that deployed inference folds into the conv or
 * deconv right before it (lpnas_net_infer never runs such a node). */
bool lpnas_net_bn_is_folded(const lpnas_net *net, int i);
/* Folds every BN into its conv/deconv and converts the result with the
 * policy's host conversion, exactly as lpnas_net_infer does; then *w and *b
 * point at node i's folded weight (conv [OC][C/g][k][k], deconv
 * [C][OC][k][k]) and bias [OC], valid until the next fold or inference. */
void lpnas_net_fold(lpnas_net *net, const lpnas_policy *policy);
void lpnas_net_folded(const lpnas_net *net, int i, const float **w, const float **b);

#endif
