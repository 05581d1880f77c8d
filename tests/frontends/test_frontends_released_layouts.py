"""Every layout the released ASA-SNN code and its usual wrappers write loads to the same graph
(spikingjelly's ``.0.`` and ``.module.`` container spellings, a DataParallel ``module.`` prefix, whole
training checkpoints), and anything else is refused in one line naming the key (docs/design.md §4)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from released_cases import load_case, module_form, same_graph
from snnc.frontends import load_graph
from snnc.frontends.released import released_state_dict, released_to_graph
from snnc_testing import run_cli


@pytest.mark.parametrize("form", ["module_form", "dataparallel", "attention_snn_checkpoint", "state_dict_key",
                                  "module_form_dataparallel"])
@pytest.mark.parametrize("name", ["lif3_asa", "lif3_vanilla", "lif5_asa"])
def test_every_wrapper_loads_to_the_same_graph(tmp_path, form, name):
    case, sd, _ = load_case(name)
    plain = tmp_path / "plain.pth"
    torch.save(sd, plain)  # what the released ASA-SNN train loop saves (apis/__init__.py)
    dp = {f"module.{k}": v for k, v in sd.items()}
    obj = {"module_form": module_form(sd), "dataparallel": dp,
           # BICLab/Attention-SNN's process.py (and ASA-SNN's pretrained_path reader): DataParallel net,
           # legacy serialisation
           "attention_snn_checkpoint": {"net": dp, "acc": 93.75, "epoch": 12, "acc_record": [50.0, 93.75]},
           "state_dict_key": {"state_dict": sd, "epoch": 3, "best_acc": 90.0, "optimizer": {"state": {}}},
           "module_form_dataparallel": {f"module.{k}": v for k, v in module_form(sd).items()}}[form]
    wrapped = tmp_path / f"{form}.pth"
    torch.save(obj, wrapped, _use_new_zipfile_serialization=form != "attention_snn_checkpoint")
    ref = load_graph(plain)
    same_graph(ref, load_graph(wrapped))
    assert ref.metadata["snnc"]["model"]["model"] == ("lif-snn-5" if name.startswith("lif5") else "lif-snn-3")


@pytest.mark.parametrize("edit, named", [
    ("extra", "ConvAttLIFs.0.attn.gate.weight"),
    ("missing", "ConvAttLIFs.1.bn.0.running_var"),
    ("extra_top", "scheduler_state"),
    ("mixed_prefix", "FCs.1.linear.0.bias"),
    ("shape", "ConvAttLIFs.1.bn.0.weight"),
    ("shape", "ConvAttLIFs.2.attn.fc.0.weight"),
    ("rank", "ConvAttLIFs.0.conv.0.weight"),
    ("rank", "FCs.0.linear.0.weight"),
])
def test_a_wrong_key_is_refused_in_one_line_naming_it(tmp_path, capsys, edit, named):
    case, sd, _ = load_case("lif3_asa")
    sd = dict(sd)
    if edit == "extra":
        sd[named] = torch.zeros(1)
        obj = sd
    elif edit == "missing":
        del sd[named]
        obj = sd
    elif edit == "shape":
        sd[named] = torch.ones(sd[named].shape[0] + 1, *sd[named].shape[1:])
        obj = sd
    elif edit == "rank":
        sd[named] = sd[named].reshape(-1)
        obj = sd
    elif edit == "extra_top":
        obj = {"net": sd, "epoch": 1, named: 0}
    else:
        obj = {(k if k == named else f"module.{k}"): v for k, v in sd.items()}
    path = tmp_path / "bad.pth"
    torch.save(obj, path)
    code, out, err = run_cli(capsys, "inspect", path)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("snnc: error:") and repr(named) in lines[0], err


def test_an_unrelated_state_dict_is_refused_naming_its_first_key(tmp_path, capsys):
    path = tmp_path / "other.pth"
    torch.save({"encoder.weight": torch.zeros(2, 2)}, path)
    code, _, err = run_cli(capsys, "inspect", path)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "'encoder.weight'" in err


def test_an_attention_snn_checkpoint_is_named_as_such(tmp_path, capsys):
    """BICLab/Attention-SNN's MA-SNN Net (MA_SNN/DVSGestures/CNN/Networks/Att_SNN.py; key names as its
    state_dict() gave them when run) has BatchNorm and TA on its FC layers: no snnc model has that."""
    sd = {"module.convAttLIF0.conv2d.weight": torch.zeros(64, 2, 3, 3), "module.FC0.BNLayer.weight": torch.ones(256),
          "module.FC0.attention.ta.sharedMLP.0.weight": torch.zeros(12, 60, 1, 1, 1)}
    path = tmp_path / "tcsa.t7"
    torch.save({"net": sd, "acc": 90.0, "epoch": 3, "acc_record": [90.0]}, path, _use_new_zipfile_serialization=False)
    code, _, err = run_cli(capsys, "inspect", path)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "Attention-SNN" in err and "'module.convAttLIF0.conv2d.weight'" in err


@settings(max_examples=60, deadline=None, derandomize=True)
@given(case=st.sampled_from(["lif3_asa", "lif5_asa"]), pick=st.integers(0, 10_000),
       damage=st.sampled_from(["drop", "flatten", "grow", "number", "rename"]))
def test_any_damaged_key_is_a_one_line_error_naming_it(case, pick, damage):
    """Property: dropping, reshaping, replacing or renaming any single entry of a released state_dict
    gives a one-line SnncError naming that entry; resizing one names a key the sizes disagree on (never
    another exception, never a graph)."""
    from snnc.errors import SnncError

    _, sd, _ = load_case(case)
    key = sorted(sd)[pick % len(sd)]
    named = key
    if damage == "drop":
        del sd[key]
    elif damage == "flatten":
        sd[key] = sd[key].reshape(-1, 1) if sd[key].ndim < 2 else sd[key].reshape(-1)
    elif damage == "grow":
        sd[key] = torch.zeros(sd[key].shape[0] + 1, *sd[key].shape[1:]) if sd[key].ndim else torch.zeros(2)
    elif damage == "number":
        sd[key] = 0.5
    else:
        named = key.replace(".weight", ".weights") if key.endswith(".weight") else key + "_x"
        sd[named] = sd.pop(key)
    with pytest.raises(SnncError) as e:
        released_to_graph(sd, where="ckpt.pth")
    msg = str(e.value)
    assert msg.startswith("ckpt.pth: ") and "\n" not in msg
    if damage == "grow":  # the sizes disagree: the message names the first key inconsistent with the rest
        assert any(repr(k) in msg for k in sd), msg
    else:
        assert repr(named) in msg or repr(key) in msg, msg



@pytest.mark.parametrize("name", ["lif3_asa", "lif5_asa"])
def test_module_form_and_prefix_normalise_to_the_released_keys(name):
    _, sd, _ = load_case(name)
    wrapped = {f"module.{k}": v for k, v in module_form(sd).items()}
    assert any(".module." in k for k in wrapped)
    assert list(released_state_dict(wrapped)) == list(sd)
    assert list(released_state_dict({"net": wrapped, "epoch": 5})) == list(sd)
    assert released_state_dict({"encoder.weight": torch.zeros(1)}) is None


def test_an_arch_c_state_dict_is_named_as_such():
    """models/Net3.py (arch C) is Net2.py with spikingjelly LIFNode (no parameters) and average pools on
    spikes (diff of the two files at c68b2d0): its state_dict is arch B's without the PLIF ``w`` keys."""
    from snnc.errors import SnncError

    _, sd, _ = load_case("lif5_vanilla")
    arch_c = {k: v for k, v in sd.items() if not k.endswith(".spike.0.w")}
    with pytest.raises(SnncError, match=r"Net3\.py \(arch C\)"):
        released_to_graph(arch_c, where="c.pth")
