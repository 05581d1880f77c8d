"""infer_shapes agrees with PyTorch's own conv/pool output shapes; fan-in sums must agree."""

from __future__ import annotations

import nir
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snnc.compiler.ir import MaxPool2d, infer_shapes, make_graph
from snnc.errors import VerifyError


def _single(node, in_shape):
    g = make_graph({"input": nir.Input(input_type=np.array(in_shape)), "n": node,
                    "output": nir.Output(output_type=np.array([1]))},
                   [("input", "n"), ("n", "output")])
    g.nodes["output"].output_type = {"output": None}
    return tuple(int(s) for s in infer_shapes(g).nodes["n"].output_type["output"])


@st.composite
def conv_case(draw):
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h = draw(st.integers(dh * (kh - 1) + 1, 12))
    w = draw(st.integers(dw * (kw - 1) + 1, 12))
    return groups, c_in, c_out, (kh, kw), (sh, sw), (ph, pw), (dh, dw), (h, w)


@settings(max_examples=60, deadline=None)
@given(conv_case())
def test_conv_shape_matches_torch(case):
    groups, c_in, c_out, k, s, p, d, (h, w) = case
    weight = np.zeros((c_out, c_in // groups, *k), dtype=np.float32)
    node = nir.Conv2d(input_shape=None, weight=weight, stride=s, padding=p, dilation=d, groups=groups,
                      bias=np.zeros(c_out, dtype=np.float32))
    expected = F.conv2d(torch.zeros(1, c_in, h, w), torch.from_numpy(weight), stride=s, padding=p, dilation=d,
                        groups=groups).shape[1:]
    assert _single(node, (c_in, h, w)) == tuple(expected)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2),
       st.integers(0, 2), st.integers(4, 13), st.integers(4, 13), st.sampled_from(["sum", "avg", "max"]))
def test_pool_shape_matches_torch(kh, kw, sh, sw, ph, pw, h, w, kind):
    ph, pw = min(ph, kh // 2), min(pw, kw // 2)  # torch: padding <= kernel / 2
    x = torch.zeros(1, 3, h, w)
    args = dict(kernel_size=np.array([kh, kw]), stride=np.array([sh, sw]), padding=np.array([ph, pw]))
    if kind == "max":
        node, ref = MaxPool2d(**args), F.max_pool2d(x, (kh, kw), (sh, sw), (ph, pw))
    else:
        node = (nir.SumPool2d if kind == "sum" else nir.AvgPool2d)(**args)
        ref = F.avg_pool2d(x, (kh, kw), (sh, sw), (ph, pw))
    assert _single(node, (3, h, w)) == tuple(ref.shape[1:])


@pytest.mark.parametrize("start,end,expected", [(0, -1, (60,)), (1, -1, (3, 20)), (0, 1, (12, 5)), (1, 2, (3, 20))])
def test_flatten_uses_nir_per_step_dims(start, end, expected):
    node = nir.Flatten(input_type={"input": None}, start_dim=start, end_dim=end)
    assert _single(node, (3, 4, 5)) == expected
    assert tuple(torch.zeros(3, 4, 5).flatten(start, end).shape) == expected


def test_grouped_conv_types_are_right_where_nir_is_wrong():
    w = np.zeros((4, 1, 3, 3), dtype=np.float32)  # depthwise, groups = 4
    node = nir.Conv2d(input_shape=(8, 8), weight=w, stride=1, padding=1, dilation=1, groups=4,
                      bias=np.zeros(4, dtype=np.float32))
    assert list(node.input_type["input"]) == [1, 8, 8]  # NIR 1.0.8's bug
    g = make_graph({"input": nir.Input(input_type=np.array([4, 8, 8])), "c": node,
                    "output": nir.Output(output_type=np.array([4, 8, 8]))}, [("input", "c"), ("c", "output")])
    assert list(infer_shapes(g).nodes["c"].input_type["input"]) == [4, 8, 8]


def test_fan_in_shapes_must_agree():
    nodes = {"input": nir.Input(input_type=np.array([4])),
             "a": nir.Affine(weight=np.zeros((3, 4), np.float32), bias=np.zeros(3, np.float32)),
             "b": nir.Affine(weight=np.zeros((2, 4), np.float32), bias=np.zeros(2, np.float32)),
             "output": nir.Output(output_type=np.array([3]))}
    g = make_graph(nodes, [("input", "a"), ("input", "b"), ("a", "output"), ("b", "output")])
    with pytest.raises(VerifyError, match="'output'.*summed.*differ"):
        infer_shapes(g)


def test_infer_shapes_does_not_mutate_its_input():
    w = np.zeros((2, 3, 3, 3), dtype=np.float32)
    node = nir.Conv2d(input_shape=None, weight=w, stride=1, padding=0, dilation=1, groups=1,
                      bias=np.zeros(2, np.float32))
    g = make_graph({"input": nir.Input(input_type=np.array([3, 6, 6])), "c": node,
                    "output": nir.Output(output_type=np.array([2, 4, 4]))}, [("input", "c"), ("c", "output")])
    out = infer_shapes(g)
    assert g.nodes["c"].input_shape is None and g.nodes["c"].output_type["output"] is None
    assert list(out.nodes["c"].output_type["output"]) == [2, 4, 4]
