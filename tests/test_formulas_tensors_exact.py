"""Weight memory with kept 16-bit tensors, by hand: M_W = (N − N_e)·β + N_e·β_e, N_e the
embedding tables (vocabulary, learned positions, token types) and an untied LM head (AWQ and
vLLM FP8 keep them in 16 bits); its derivation's operands put back into that equation give
the result; and a bad model argument is refused naming the argument and the formula."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from mlsysim import Models
from mlsysim.core.exceptions import MlsysimError
from mlsysim.core.formulas.tensors import weights_bytes

# int4 with a 16-bit scale and a 4-bit zero point per group of g: 4 + 20/g bits per weight
# (AWQ's format); fp8: 8 bits, no scales; bf16: 2 bytes.
_INT4_G32_B = (4.0 + 20.0 / 32.0) / 8.0
_INT4_G128_B = (4.0 + 20.0 / 128.0) / 8.0


def _model(params: float, **arch: object) -> SimpleNamespace:
    return SimpleNamespace(params=params, arch=SimpleNamespace(**arch))


# BERT-like: V·h 1000·64 = 64000, learned positions 512·64 = 32768, 2 token types 128, tied
_BERT = _model(1.0e6, vocab=1000, hidden=64, max_seq_len=512, position="learned", type_vocab=2,
               tied_embeddings=True)  # fmt: skip
# an arch naming neither positions nor token types, untied: 2·64000 kept
_BARE = _model(1.0e6, vocab=1000, hidden=64, max_seq_len=512, tied_embeddings=False)
# rotary positions, no token types: the vocabulary table only
_ROPE = _model(1.0e6, vocab=1000, hidden=64, max_seq_len=512, position="rope", type_vocab=0,
               tied_embeddings=True)  # fmt: skip


def _bytes(model: object, precision: str, **kw: Any) -> float:
    return float(weights_bytes(model, precision, **kw).to("B").magnitude)


@pytest.mark.parametrize(("model", "kept"), [(_BERT, 96896.0), (_BARE, 128000.0), (_ROPE, 64000.0)])
def test_kept_tables_stay_in_16_bits(model: SimpleNamespace, kept: float) -> None:
    want = (1.0e6 - kept) * 1.0 + kept * 2.0  # fp8 body, bf16 kept tables
    assert _bytes(model, "fp8", kept_precision="bf16") == pytest.approx(want, rel=1e-15)
    assert _bytes(model, "fp8") == pytest.approx(1.0e6, rel=1e-15)  # nothing kept


def test_llama2_7b_int4_with_a_bf16_embedding_and_head() -> None:
    # kept: untied embedding and head, 2·32000·4096 = 262,144,000 parameters at 2 bytes
    n, kept = Models.Llama2_7B.params.to("parameter").magnitude, 2.0 * 32000 * 4096
    got = _bytes(Models.Llama2_7B, "int4", group_size=32, kept_precision="bf16")
    assert got == pytest.approx((n - kept) * _INT4_G32_B + kept * 2.0, rel=1e-12)
    got = _bytes(Models.Llama2_7B, "int4", kept_precision="bf16")  # AWQ's default g = 128
    assert got == pytest.approx((n - kept) * _INT4_G128_B + kept * 2.0, rel=1e-12)


def test_a_model_without_an_arch_keeps_nothing() -> None:
    cnn = SimpleNamespace(params=2.0e6)  # a CNN spec: no embedding tables
    assert _bytes(cnn, "fp8", kept_precision="bf16") == pytest.approx(2.0e6, rel=1e-15)


def _derived(ops: dict[str, object]) -> float:
    """The symbol ``(N − N_e)·β + N_e·β_e`` evaluated on a derivation's operands, in bytes."""

    def mag(x: Any, unit: str) -> float:
        return float(x.to(unit).magnitude) if hasattr(x, "to") else float(x)

    n, n_e = mag(ops["params"], "parameter"), mag(ops["kept_params"], "parameter")
    return (n - n_e) * mag(ops["bytes_per_element"], "B") + n_e * mag(ops["kept_bytes"], "B")


@pytest.mark.parametrize(
    ("model", "kw"),
    [
        (Models.Llama2_7B, {"precision": "int4", "group_size": 32, "kept_precision": "bf16"}),
        (Models.Llama2_7B, {"precision": "int4", "group_size": 32}),
        (Models.Llama2_7B, {"precision": "fp8", "kept_precision": "fp16"}),
        (_BERT, {"precision": "fp8", "kept_precision": "bf16"}),
        (_BERT, {"precision": "bf16"}),
    ],
)
def test_derivation_operands_reproduce_the_result(model: object, kw: dict[str, object]) -> None:
    info = weights_bytes.formula  # type: ignore[attr-defined]
    ops = info.operands(info.bind(model=model, **kw))
    assert _derived(ops) == pytest.approx(_bytes(model, **kw), rel=1e-12)  # type: ignore[arg-type]
    if kw.get("kept_precision") is None:  # the derivation shows nothing kept
        assert float(ops["kept_params"]) == 0.0
        assert ops["kept_bytes"].to("B").magnitude == 0.0


@pytest.mark.parametrize(
    ("model", "named"),
    [(None, "model"), ("Llama2_7B", "model"), (SimpleNamespace(params="lots"), "model.params")],
)
def test_a_bad_model_is_refused_naming_it_and_the_formula(model: object, named: str) -> None:
    with pytest.raises(MlsysimError) as info:
        weights_bytes(model, "bf16")
    err = info.value
    assert err.what.startswith(f"{named} must be"), err.what
    assert err.where == "weights_bytes"
