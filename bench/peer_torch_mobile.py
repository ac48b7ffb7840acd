#!/usr/bin/env python3
"""PyTorch CPU peer for bench_train: training-step throughput of liblpnas's `mobile` preset
(in3-c16x1k3-s24x2k3-r32x2k3e4-r48x2k3e4/down=conv,up=bilinear,skip=add,dec=1,act=relu6;
docs/arch.md), FP32, built layer for layer as lib/graph.c builds it, so that a depthwise-heavy
network is compared too (../shared/peers/peer_torch.py has the plain U-Net only).
Same options and output line as that peer:
Usage: peer_torch_mobile.py [--size 64] [--batch 16] [--steps 30] [--threads 1]"""
import argparse, time, torch, torch.nn as nn, torch.nn.functional as F


def cba(cin, cout, k=3, s=1, groups=1, act=True):
    """conv (no bias, 'same' padding) -> BN -> ReLU6 (or none), as graph.c's cba"""
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class Separable(nn.Module):
    def __init__(s, cin, width, stride):
        super().__init__()
        s.dw = cba(cin, cin, 3, stride, groups=cin)
        s.pw = cba(cin, width, 1)

    def forward(s, x):
        return s.pw(s.dw(x))


class Inverted(nn.Module):
    def __init__(s, cin, width, stride, e=4):
        super().__init__()
        hid = cin * e
        s.expand = cba(cin, hid, 1)
        s.dw = cba(hid, hid, 3, stride, groups=hid)
        s.project = cba(hid, width, 1, act=False)
        s.residual = stride == 1 and cin == width

    def forward(s, x):
        y = s.project(s.dw(s.expand(x)))
        return y + x if s.residual else y


class Mobile(nn.Module):
    def __init__(s):
        super().__init__()
        s.stages = nn.ModuleList([
            nn.Sequential(cba(3, 16)),                                   # c16x1k3
            nn.Sequential(Separable(16, 24, 2), Separable(24, 24, 1)),   # s24x2k3, down=conv
            nn.Sequential(Inverted(24, 32, 2), Inverted(32, 32, 1)),     # r32x2k3e4
            nn.Sequential(Inverted(32, 48, 2), Inverted(48, 48, 1)),     # r48x2k3e4
        ])
        widths = [16, 24, 32, 48]
        # decoder, from stage 2 down to 0: upsample, 1x1 to the skip's width when it differs, add, dec=1
        s.proj = nn.ModuleList([cba(widths[i + 1], widths[i], 1) for i in range(3)])
        s.dec = nn.ModuleList([cba(widths[i], widths[i], 3) for i in range(3)])
        s.head = nn.Conv2d(16, 1, 1)

    def forward(s, x):
        skips = []
        for st in s.stages:
            x = st(x)
            skips.append(x)
        for i in (2, 1, 0):
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = s.proj[i](x) + skips[i]
            x = s.dec[i](x)
        return s.head(x)


ap = argparse.ArgumentParser()
ap.add_argument("--size", type=int, default=64); ap.add_argument("--batch", type=int, default=16)
ap.add_argument("--steps", type=int, default=30); ap.add_argument("--threads", type=int, default=1)
a = ap.parse_args()
torch.set_num_threads(a.threads); torch.manual_seed(0)
net = Mobile()
params = sum(p.numel() for p in net.parameters())
opt = torch.optim.Adam(net.parameters(), 1e-3)
x = torch.randn(a.batch, 3, a.size, a.size); y = (torch.rand(a.batch, 1, a.size, a.size) < 0.03).float()
def step():
    opt.zero_grad(); loss = F.binary_cross_entropy_with_logits(net(x), y); loss.backward(); opt.step()
for _ in range(3): step()
t = time.perf_counter()
for _ in range(a.steps): step()
dt = time.perf_counter() - t
print("params=%d size=%d batch=%d threads=%d images_per_s=%.1f" % (params, a.size, a.batch, a.threads, a.steps * a.batch / dt))
