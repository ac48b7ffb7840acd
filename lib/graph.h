/* Internal: the node graph an architecture expands to. Stats, the layer
 * list and the network engine all walk this one expansion, so they can
 * never disagree about what a string means. */
#ifndef LPNAS_LIB_GRAPH_H
#define LPNAS_LIB_GRAPH_H

#include "lpnas/arch.h"

typedef enum {
    LPNAS_NODE_INPUT,    /* the (normalized) network input */
    LPNAS_NODE_CONV,     /* k, stride, groups, bias */
    LPNAS_NODE_BN,
    LPNAS_NODE_ACT,      /* relu or relu6 */
    LPNAS_NODE_MAXPOOL,  /* 2x2 stride 2 */
    LPNAS_NODE_UPSAMPLE, /* x2, nearest or bilinear */
    LPNAS_NODE_DECONV,   /* 2x2 stride 2 */
    LPNAS_NODE_ADD,
    LPNAS_NODE_CONCAT
} lpnas_node_kind;

typedef struct {
    lpnas_node_kind kind;
    int in[2];          /* producer node indices (-1: none) */
    int c, h, w;        /* output shape (batch excluded) */
    int in_c;           /* channels of in[0] (concat: both) */
    int kernel, stride, groups;
    int bias;           /* conv/deconv has a bias */
    int act;            /* ACT: 0 relu, 1 relu6; UPSAMPLE: 0 nearest, 1 bilinear */
    long long params;   /* weights (+bias), or gamma+beta for BN */
    long long macs;
    int wfmt;           /* conv/deconv: lpnas_wfmt of its weights (encoder stages; 0 elsewhere) */
} lpnas_node;

#define LPNAS_GRAPH_MAX_NODES 512

typedef struct {
    lpnas_node node[LPNAS_GRAPH_MAX_NODES];
    int count;
    /* the last node of each encoder stage (its output: the skip the decoder
     * fuses); the encoder is a prefix of the node list, stage by stage, so a
     * network's first i stages are the same nodes in any arch that shares them */
    int stage_end[LPNAS_ARCH_MAX_STAGES];
} lpnas_graph;

/* Expands a checked arch for an h x w input (divisible by 2^(stages-1)). */
lpnas_status lpnas_graph_build(const lpnas_arch *a, int h, int w, lpnas_graph *g);

#endif
