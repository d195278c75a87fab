#!/usr/bin/python3
"""An int8 QOperator ONNX model written with ONNX's own Python helpers (Debian's python3-onnx),
not by dova: the foreign file OnnxImportTest reads and compares with ONNX Runtime.

Typed tensor fields (int32_data, float_data) rather than raw bytes, per-tensor and per-channel
weight scales, a ReLU6 Clip, a signed (zero point 128) layer, a residual QLinearAdd, a max pool,
a global average pool and a fully connected 1x1 conv after a Reshape. Weights within +-63, so
that no vpmaddubsw pair of a runtime's AVX2 kernel saturates.
    /usr/bin/python3 scripts/onnx-by-hand.py accelerator-sim/src/test/resources/onnx/by-hand.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

rng = np.random.default_rng(5)
inits = []


def const(name, dtype, vals, dims=()):
    inits.append(helper.make_tensor(name, dtype, list(dims), np.asarray(vals).flatten().tolist(), raw=False))
    return name


def scale(name, v):
    return const(name, TensorProto.FLOAT, [v])


def zp(name, v):
    return const(name, TensorProto.UINT8, [v])


def conv(x, xs, xz, name, cin, cout, k, pad, ys, yz, per_channel, group=1):
    w = rng.integers(-63, 64, size=(cout, cin // group, k, k))
    ws = rng.uniform(0.002, 0.01, size=cout) if per_channel else [0.005]
    b = rng.integers(-2000, 2000, size=cout)
    ins = [x, xs, xz, const(name + "_w", TensorProto.INT8, w, w.shape),
           const(name + "_ws", TensorProto.FLOAT, ws, (len(ws),) if per_channel else ()),
           const(name + "_wz", TensorProto.INT8, np.zeros(len(ws), dtype=int), (len(ws),) if per_channel else ()),
           ys, yz, const(name + "_b", TensorProto.INT32, b, (cout,))]
    return helper.make_node("QLinearConv", ins, [name], name=name + "_node", kernel_shape=[k, k],
                            pads=[pad] * 4, strides=[1, 1], group=group)


s_in = scale("s_in", 1 / 255)
z0 = zp("z0", 0)
z128 = zp("z128", 128)
s1 = scale("s1", 0.05)
s2 = scale("s2", 0.04)
s3 = scale("s3", 0.06)
s4 = scale("s4", 0.03)
s5 = scale("s5", 0.08)
nodes = [
    conv("image", s_in, z0, "c1", 3, 8, 3, 1, s1, z0, per_channel=False),
    helper.make_node("Clip", ["c1", zp("lo", 0), zp("hi", round(6 / 0.05))], ["c1r6"], name="relu6"),
    conv("c1r6", s1, z0, "c2", 8, 8, 3, 1, s2, z0, per_channel=True, group=2),
    helper.make_node("QLinearAdd", ["c2", s2, z0, "c1r6", s1, z0, s3, z0], ["sum"], name="add", domain="com.microsoft"),
    helper.make_node("MaxPool", ["sum"], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
    conv("pool", s3, z0, "c3", 8, 16, 3, 0, s4, z128, per_channel=True),
]
# the signed c3 read by the pool and the dense layer as stored (zero point 128)
nodes += [
    helper.make_node("QLinearGlobalAveragePool", ["c3", s4, z128, s4, z128], ["gap"], name="gap",
                     domain="com.microsoft", channels_last=0),
    helper.make_node("Reshape", ["gap", const("shape", TensorProto.INT64, [0, -1, 1, 1], (4,))], ["flat"], name="flat"),
    conv("flat", s4, z128, "fc", 16, 10, 1, 0, s5, z128, per_channel=True),
    helper.make_node("Flatten", ["fc"], ["fc_flat"], name="out", axis=1),
    # the stored uint8 logits back to their signed integers, as dova's own exports end
    helper.make_node("DequantizeLinear", ["fc_flat", scale("one", 1.0), z128], ["fc_real"], name="dequantize"),
    helper.make_node("Cast", ["fc_real"], ["logits"], name="cast", to=TensorProto.INT8),
]
graph = helper.make_graph(
    nodes, "by-hand",
    [helper.make_tensor_value_info("image", TensorProto.UINT8, ["N", 3, 12, 12])],
    [helper.make_tensor_value_info("logits", TensorProto.INT8, ["N", 10])],
    initializer=inits)
model = helper.make_model(graph, producer_name="onnx.helper",
                          opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
