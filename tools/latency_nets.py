#!/usr/bin/env python3
"""Writes the layer lists of the networks the Myriad X latency model is checked
against (docs/latency.md) into test/data/latency/. Layer shapes follow the
OpenVINO IRs the measurements were taken with where those are public (the
SSD models: aallan/benchmarking-ml-on-the-edge, ssd_mobilenet_v*/openvino_for_intel_ncs/*.xml,
Model Optimizer 2019.1), otherwise the reference architecture.

    python3 tools/latency_nets.py          # rewrites test/data/latency/*.csv

The layer-list format is docs/formats.md. Ops the format has no row for are
written as the closest memory-bound SHAVE stage and say so in a comment:
Permute as a nearest upsampling by 1 (a SHAVE copy of the tensor), Sigmoid as a
standalone 'relu' over the same tensor (after a concat, so not folded). SSD's
DetectionOutput is a 'detection_output' row (in_h = priors, in_c = classes,
out_c = detections kept), priced in docs/latency.md."""
import os
import sys

HEADER = "op,in_h,in_w,in_c,out_c,kernel,stride,groups,act,dilation"


class Net:
    def __init__(self, comment):
        self.comment = comment
        self.rows = []

    def add(self, op, h, w, ci, co, k=1, s=1, g=1, act="none", d=1):
        self.rows.append(f"{op},{h},{w},{ci},{co},{k},{s},{g},{act},{d}")
        if op in ("deconv", "upsample_nearest", "upsample_bilinear"):
            return h * s, w * s
        if op in ("global_avgpool", "fc"):
            return 1, 1
        return (h + s - 1) // s, (w + s - 1) // s

    def text(self):
        lines = ["# lpnas layer list v1"] + ["# " + c for c in self.comment] + [HEADER] + self.rows
        return "\n".join(lines) + "\n"


def mobilenet_v2_blocks(net, h, w, c, blocks, stop_at=None):
    """Inverted residuals (t, c, n, s). Returns (h, w, c, taps): taps[i] is the
    (h, w, expanded c) of block i's expansion output, for SSD's first head."""
    taps = []
    idx = 0
    for t, co, n, s in blocks:
        for i in range(n):
            stride = s if i == 0 else 1
            e = c * t
            if t != 1:
                net.add("conv", h, w, c, e, act="relu6")
            taps.append((h, w, e))
            if stop_at is not None and idx == stop_at:
                return h, w, c, taps
            oh, ow = net.add("conv", h, w, e, e, 3, stride, e, "relu6")
            net.add("conv", oh, ow, e, co)
            if stride == 1 and c == co:
                net.add("add", oh, ow, co, co)
            h, w, c = oh, ow, co
            idx += 1
    return h, w, c, taps


MNV2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def mobilenet_v2_224():
    net = Net(["MobileNetV2 1.0, 224x224x3 input, batch 1 (Sandler et al. 2018; TF-Slim/Keras layout):",
               "3x3/2 stem, 17 inverted residual blocks, 1x1 conv to 1280, global pool, fc 1000.",
               "No published NCS2 figure is used for it: a depthwise-heavy reference for the share table."])
    h, w = net.add("conv", 224, 224, 3, 32, 3, 2, act="relu6")
    h, w, c, _ = mobilenet_v2_blocks(net, h, w, 32, MNV2)
    net.add("conv", h, w, c, 1280, act="relu6")
    net.add("global_avgpool", h, w, 1280, 1280, h)
    net.add("fc", 1, 1, 1280, 1000)
    return net


def ssd_heads(net, feats, k, classes=91):
    """Box encoding and class convs of each feature map (anchors 3 on the
    first map, 6 elsewhere), each followed by its Permute (NCHW -> NHWC),
    then the concats and the two Sigmoids over the scores."""
    for i, (h, w, c) in enumerate(feats):
        a = 3 if i == 0 else 6
        for co in (a * 4, a * classes):
            net.add("conv", h, w, c, co, k)
            net.add("upsample_nearest", h, w, co, co)  # Permute 0,2,3,1: a SHAVE copy (scale 1)
    boxes = sum(h * w * (3 if i == 0 else 6) for i, (h, w, _) in enumerate(feats))
    net.add("concat", boxes, 1, 4, 4)
    net.add("concat", boxes, 1, classes, classes)
    net.add("relu", boxes, 1, classes, classes)  # Postprocessor/convert_scores: Sigmoid
    net.add("relu", boxes, 1, classes, classes)  # do_ExpandDims_conf/sigmoid: Sigmoid
    net.add("detection_output", boxes, 1, classes, 100)  # DetectionOutput: keep_top_k 100


SSD_NOTE = ["The IR ends in DetectionOutput (1917 priors, 91 classes, confidence 0.3, top_k 100,",
            "keep_top_k 100, NMS 0.6; its box input has 1917 x 4 = 7668 values) on the device's SHAVEs:",
            "the last row. Permute rows are written as upsample_nearest by 1 (a SHAVE copy), Sigmoid rows",
            "as standalone 'relu' rows over the same tensor; PriorBoxClustered and Reshape are constant",
            "or free. The first row is the IR's input Power layer (Preprocessor/mul/FusedPower_:",
            "x * 2/255 - 1 over the 300x300x3 input), a standalone 'bn' row (a SHAVE scale-shift)."]


def ssd_mobilenet_v2_300():
    net = Net(["SSD MobileNetV2 (TF object detection API ssd_mobilenet_v2_coco), 300x300x3, batch 1,",
               "as converted by OpenVINO Model Optimizer 2019.1 (IR v5, FP16): backbone, head taps at the",
               "expansion of block 13 (19x19x576) and the 1x1 conv to 1280 (10x10), extra layers",
               "1x1 256 > 3x3/2 512, 1x1 128 > 3x3/2 256 (x2), 1x1 64 > 3x3/2 128; 3x3 box predictors."] + SSD_NOTE)
    net.add("bn", 300, 300, 3, 3)  # Preprocessor/mul/FusedPower_ (IR layer 1): a SHAVE scale-shift
    h, w = net.add("conv", 300, 300, 3, 32, 3, 2, act="relu6")
    # blocks 0..12 fully, block 13's expansion is the first head tap
    h, w, c, taps = mobilenet_v2_blocks(net, h, w, 32, MNV2, stop_at=13)
    tap0 = taps[13]
    # the rest of block 13 and blocks 14..16
    e = tap0[2]
    oh, ow = net.add("conv", h, w, e, e, 3, 2, e, "relu6")
    net.add("conv", oh, ow, e, 160)
    h, w, c = oh, ow, 160
    h, w, c, _ = mobilenet_v2_blocks(net, h, w, c, [(6, 160, 2, 1), (6, 320, 1, 1)])
    net.add("conv", h, w, c, 1280, act="relu6")
    feats = [tap0, (h, w, 1280)]
    c = 1280
    for mid, out in ((256, 512), (128, 256), (128, 256), (64, 128)):
        net.add("conv", h, w, c, mid, act="relu6")
        h, w = net.add("conv", h, w, mid, out, 3, 2, act="relu6")
        c = out
        feats.append((h, w, c))
    ssd_heads(net, feats, 3)
    return net


def ssd_mobilenet_v1_075_300():
    net = Net(["SSD MobileNetV1 0.75 depth (TF object detection API ssd_mobilenet_v1_0.75_depth_coco),",
               "300x300x3, batch 1, as converted by OpenVINO Model Optimizer 2019.1 (IR v5, FP16):",
               "13 depthwise-separable blocks at 0.75 width, heads on Conv2d_11 (19x19x384) and Conv2d_13",
               "(10x10x768), extra layers 1x1 192 > 3x3/2 384, 1x1 96 > 3x3/2 192 (x2), 1x1 48 > 3x3/2 96;",
               "1x1 box predictors."] + SSD_NOTE)
    net.add("bn", 300, 300, 3, 3)  # Preprocessor/mul/FusedPower_ (IR layer 1): a SHAVE scale-shift
    h, w = net.add("conv", 300, 300, 3, 24, 3, 2, act="relu6")
    c = 24
    feats = []
    for i, (co, s) in enumerate([(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
                                 (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]):
        co = co * 3 // 4
        h, w = net.add("conv", h, w, c, c, 3, s, c, "relu6")
        net.add("conv", h, w, c, co, act="relu6")
        c = co
        if i in (10, 12):
            feats.append((h, w, c))
    for mid, out in ((192, 384), (96, 192), (96, 192), (48, 96)):
        net.add("conv", h, w, c, mid, act="relu6")
        h, w = net.add("conv", h, w, mid, out, 3, 2, act="relu6")
        c = out
        feats.append((h, w, c))
    ssd_heads(net, feats, 1)
    return net


def squeezenet1_1_227():
    """SqueezeNet 1.1 as in the Caffe release (DeepScale) and OpenVINO's Open Model
    Zoo 'squeezenet1.1' (227x227x3 BGR): the rows give each layer's real input size
    (Caffe's valid 3x3/2 conv and ceil-mode pools: 227 > 113 > 56 > 28 > 14), so a
    row's 'same'-padding output can differ by one from the next row's input."""
    net = Net(["SqueezeNet 1.1 (Iandola et al. 2016; Caffe model of DeepScale, Open Model Zoo",
               "'squeezenet1.1'), 227x227x3 input, batch 1. Fire module = 1x1 squeeze, then 1x1 and",
               "3x3 expands (both read the squeeze output, written as a chain) and their concat.",
               "The final Softmax over 1000 values has no row (a few microseconds on a SHAVE).",
               "Held out: NCS2 figure of github.com/ivost/openvino-playground (docs/latency.md)."])
    net.add("conv", 227, 227, 3, 64, 3, 2, act="relu")
    h = 113
    net.add("maxpool", h, h, 64, 64, 3, 2)
    h, c = 56, 64
    fires = [(16, 64), (16, 64), "pool", (32, 128), (32, 128), "pool", (48, 192), (48, 192), (64, 256), (64, 256)]
    for f in fires:
        if f == "pool":
            net.add("maxpool", h, h, c, c, 3, 2)
            h = {56: 28, 28: 14}[h]
            continue
        sq, ex = f
        net.add("conv", h, h, c, sq, act="relu")
        net.add("conv", h, h, sq, ex, act="relu")
        net.add("conv", h, h, sq, ex, 3, act="relu")
        net.add("concat", h, h, 2 * ex, 2 * ex)
        c = 2 * ex
    net.add("conv", h, h, c, 1000, act="relu")
    net.add("global_avgpool", h, h, 1000, 1000, h)
    return net


LUXONIS = "RVC2 NN Performance table of docs.luxonis.com (docs/latency.md)"


def resnet50_224():
    """ResNet-50 in the torchvision layout (v1.5: the stride sits on each
    stage's first 3x3), the common export; which variant the measured blob
    used is not stated."""
    net = Net(["ResNet-50, 224x224x3 input, batch 1 (torchvision layout, v1.5: 7x7/2 stem, 3x3/2 max pool,",
               "bottlenecks 1x1 > 3x3 (stride here) > 1x1 with 4x expansion, [3, 4, 6, 3] blocks, 1x1 projection",
               "on each stage's first block, residual adds with ReLU, global pool, fc 1000).",
               "Held out: " + LUXONIS + "."])
    net.add("conv", 224, 224, 3, 64, 7, 2, act="relu")
    net.add("maxpool", 112, 112, 64, 64, 3, 2)
    h, c = 56, 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for b in range(blocks):
            s = stride if b == 0 else 1
            out = width * 4
            net.add("conv", h, h, c, width, act="relu")
            oh, _ = net.add("conv", h, h, width, width, 3, s, act="relu")
            net.add("conv", oh, oh, width, out)
            if b == 0:
                net.add("conv", h, h, c, out, 1, s)  # projection shortcut
            net.add("add", oh, oh, out, out, act="relu")
            h, c = oh, out
    net.add("global_avgpool", h, h, c, c, h)
    net.add("fc", 1, 1, c, 1000)
    return net


def mobileone_s0_224():
    """MobileOne-S0 (Vasu et al., CVPR 2023) at inference, after its
    re-parameterisation: every block is one conv + ReLU (the k = 4
    over-parameterised branches, BN and the identity branch fold into it)."""
    net = Net(["MobileOne-S0 (Vasu et al. 2023, apple/ml-mobileone), 224x224x3 input, batch 1, re-parameterised",
               "for inference: 3x3/2 stem to 48, then stages of (3x3 depthwise + 1x1 pointwise) blocks, widths",
               "48/128/256/1024 (multipliers 0.75, 1, 1, 2), [2, 8, 10, 1] blocks, first block of each stage",
               "stride 2; ReLU after every conv; global pool, fc 1000. Depthwise-heavy.",
               "Held out: " + LUXONIS + "."])
    h, w = net.add("conv", 224, 224, 3, 48, 3, 2, act="relu")
    c = 48
    for planes, blocks in ((48, 2), (128, 8), (256, 10), (1024, 1)):
        for b in range(blocks):
            s = 2 if b == 0 else 1
            h, w = net.add("conv", h, w, c, c, 3, s, c, "relu")
            net.add("conv", h, w, c, planes, act="relu")
            c = planes
    net.add("global_avgpool", h, w, c, c, h)
    net.add("fc", 1, 1, c, 1000)
    return net


def deeplabv3_mnv2_513(root):
    """The calibration list examples/latency/deeplabv3_mnv2_256.csv (same
    assumed layout) at 513x513: 'same' padding gives 257, 129, 65 where the
    256 list has 128, 64, 32; the image pooling spans 65x65; the final x8
    bilinear upsampling writes 520x520 (the model resizes to 513: 2.7 % more
    output pixels than the real layer)."""
    size = {256: 513, 128: 257, 64: 129, 32: 65, 1: 1}
    net = Net(["DeepLabV3 with a MobileNetV2 backbone at 513x513x3, batch 1: the layout of the calibration list",
               "examples/latency/deeplabv3_mnv2_256.csv (TensorFlow DeepLab, output stride 8, dilations 2 and 4,",
               "simplified ASPP; assumed, not checked against the measured model) with every size scaled",
               "(513 > 257 > 129 > 65; image pooling over 65x65; the final x8 bilinear writes 520x520).",
               "Held out: " + LUXONIS + "."])
    with open(os.path.join(root, "examples", "latency", "deeplabv3_mnv2_256.csv")) as f:
        rows = [r.strip() for r in f if r.strip() and not r.startswith("#") and not r.startswith("op,")]
    for r in rows:
        op, h, w, ci, co, k, s, g, act, d = r.split(",")
        h, w, k, s = size[int(h)], size[int(w)], int(k), int(s)
        if op == "global_avgpool":
            k = h
        if op == "upsample_bilinear" and h == 1:
            s = 65
        net.add(op, h, w, int(ci), int(co), k, s, int(g), act, int(d))
    return net


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    out = os.path.join(root, "test", "data", "latency")
    os.makedirs(out, exist_ok=True)
    nets = {"mobilenet_v2_224.csv": mobilenet_v2_224(), "ssd_mobilenet_v2_300.csv": ssd_mobilenet_v2_300(),
            "ssd_mobilenet_v1_075_300.csv": ssd_mobilenet_v1_075_300(), "squeezenet1_1_227.csv": squeezenet1_1_227(),
            "resnet50_224.csv": resnet50_224(), "mobileone_s0_224.csv": mobileone_s0_224(),
            "deeplabv3_mnv2_513.csv": deeplabv3_mnv2_513(root)}
    for name, net in nets.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(net.text())
        print(f"{name}: {len(net.rows)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
