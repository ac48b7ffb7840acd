#!/usr/bin/python3
"""Checks ONNX files with the onnx package's checker (Debian python3-onnx),
one process for many files:

    /usr/bin/python3 tools/onnx_check.py [--grid F32.onnx F16.onnx] FILE.onnx...

Runs onnx.checker.check_model(full_check=True) (structure, types and shape
inference) on each file. --grid: the weights (initializers w*, b*) of the
float32 export F32 all sit on the binary16 grid (a float16 conversion leaves
them unchanged) and equal, bit for bit, those of the float16 export F16. Exit status: 0 all valid, 1 a file failed, 3 the
onnx package is not installed."""
import sys

try:
    import onnx
    import onnx.checker
except ImportError:
    print("python3 onnx not installed: run tools/install_ort.sh", file=sys.stderr)
    sys.exit(3)

if len(sys.argv) < 2 or sys.argv[1] == "--help":
    print(__doc__)
    sys.exit(0 if len(sys.argv) > 1 else 2)

args = sys.argv[1:]
if args[0] == "--grid":
    import numpy as np
    from onnx import numpy_helper

    def weights(path):
        m = onnx.load(path)
        return {t.name: numpy_helper.to_array(t) for t in m.graph.initializer if t.name[0] in "wb"}

    f32, f16 = weights(args[1]), weights(args[2])
    if not f32 or f32.keys() != f16.keys():
        print(f"onnx_check: {args[1]} and {args[2]} have different weights", file=sys.stderr)
        sys.exit(1)
    for name, x in f32.items():
        h = f16[name]
        if x.dtype != np.float32 or h.dtype != np.float16:
            print(f"onnx_check: {name}: types {x.dtype}, {h.dtype}", file=sys.stderr)
            sys.exit(1)
        if not np.array_equal(x.astype(np.float16).astype(np.float32), x):
            print(f"onnx_check: {args[1]}: {name} is not on the binary16 grid", file=sys.stderr)
            sys.exit(1)
        if not np.array_equal(x.astype(np.float16).view(np.uint16), h.view(np.uint16)):
            print(f"onnx_check: {name}: float16 export differs from the float32 one", file=sys.stderr)
            sys.exit(1)
    print(f"onnx_check: {len(f32)} weight tensors of {args[1]} on the binary16 grid, equal to {args[2]}")
    args = args[1:]

for f in args:
    try:
        onnx.checker.check_model(onnx.load(f), full_check=True)
    except Exception as e:  # the checker raises several types
        print(f"onnx_check: {f}: {e}", file=sys.stderr)
        sys.exit(1)
print(f"onnx_check: {len(args)} files valid (onnx {onnx.__version__})")
