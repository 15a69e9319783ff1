"""Model registry: every entry loads and is sourced; architectures reproduce stated counts."""

from __future__ import annotations

import textwrap

import pytest

import mlsysim
from mlsysim.core import registry
from mlsysim.workload.arch import count_active_params, count_params, param_breakdown

STABLE_IDS = [
    "Llama2_7B",
    "Llama2_70B",
    "Llama3_8B",
    "Llama3_70B",
    "Llama3_405B",
    "GPT3_175B",
    "Mixtral_8x7B",
    "DeepSeekV3",
    "ResNet50",
    "MobileNetV2",
    "BERT_Base",
    "DSCNN_KWS",
]


@pytest.mark.parametrize("model_id", STABLE_IDS)
def test_stable_ids_exist(model_id):
    assert mlsysim.Models[model_id].id == model_id


def test_every_entry_is_sourced():
    sources = registry.catalog().sources
    for model in mlsysim.Models:
        assert model.source in sources, model.id
        assert sources[model.source].year > 1900


# Published parameter counts (model cards / papers), compared with the architecture's count.
PUBLISHED = {
    "Llama2_7B": 6.74e9,  # Llama-2-7b-hf: 6,738,415,616 in the checkpoint
    "Llama2_70B": 68.98e9,
    "Llama3_8B": 8.03e9,  # Meta-Llama-3-8B: 8,030,261,248
    "Llama3_70B": 70.6e9,
    "Llama3_405B": 405.9e9,
    "GPT3_175B": 175.0e9,  # Brown et al. 2020, Table 2.1
    "Mixtral_8x7B": 46.7e9,  # Mistral AI 2023
    "DeepSeekV3": 671e9,  # DeepSeek-AI 2024 (without the MTP module)
    "BERT_Base": 110e6,  # Devlin et al. 2019
}


@pytest.mark.parametrize(("model_id", "published"), PUBLISHED.items())
def test_architecture_reproduces_published_count(model_id, published):
    counted = count_params(mlsysim.Models[model_id])
    assert abs(counted - published) / published < 0.01


def test_exact_checkpoint_counts():
    # Hugging Face checkpoints: Llama-2-7b-hf, Meta-Llama-3-8B, bert-base-uncased
    assert count_params(mlsysim.Models.Llama2_7B) == 6_738_415_616
    assert count_params(mlsysim.Models.Llama3_8B) == 8_030_261_248
    assert count_params(mlsysim.Models.BERT_Base) == 109_482_240


def test_moe_active_counts():
    mixtral = mlsysim.Models.Mixtral_8x7B
    assert abs(count_active_params(mixtral) - 12.9e9) / 12.9e9 < 0.01  # Mistral AI: 12.9B
    dsv3 = mlsysim.Models.DeepSeekV3
    assert abs(count_active_params(dsv3) - 37e9) / 37e9 < 0.02  # "37B activated" (truncated)
    assert count_active_params(mlsysim.Models.Llama2_7B) == count_params(mlsysim.Models.Llama2_7B)


def test_deepseek_structure():
    arch = mlsysim.Models.DeepSeekV3.arch
    assert (arch.experts, arch.shared_experts, arch.active_experts, arch.dense_layers) == (
        256,
        1,
        8,
        3,
    )
    assert arch.attention == "mla"
    assert param_breakdown(mlsysim.Models.DeepSeekV3)["router"] == 58 * 7168 * 256


def test_kv_heads():
    assert (mlsysim.Models.Llama2_7B.heads, mlsysim.Models.Llama2_7B.kv_heads) == (32, 32)
    assert mlsysim.Models.Llama2_7B.arch.attention == "mha"
    assert mlsysim.Models.Llama3_8B.kv_heads == 8
    assert mlsysim.Models.Llama3_8B.arch.attention == "gqa"
    assert mlsysim.Models.Llama2_70B.kv_heads == 8


def test_llama2_7b_kv_cache_bytes_per_token():
    # validation.md: 2 (K,V) x 32 layers x 4096 x 2 B = 524,288 B per token at fp16
    m = mlsysim.Models.Llama2_7B
    assert 2 * m.layers * m.kv_heads * m.arch.head_size * 2 == 524_288


def test_cnn_flops_use_two_flop_per_mac():
    assert mlsysim.Models.ResNet50.flops_per_inference.to("GFLOP").magnitude == pytest.approx(7.6)
    assert mlsysim.Models.MobileNetV2.flops_per_inference.to("MFLOP").magnitude == (
        pytest.approx(600)
    )
    assert mlsysim.Models.DSCNN_KWS.flops_per_inference.to("MFLOP").magnitude == (
        pytest.approx(5.4)
    )
    assert mlsysim.Models.ResNet50.input_shape == (224, 224, 3)


def test_aliases():
    assert mlsysim.Models["Llama-2-7B"].id == "Llama2_7B"
    assert mlsysim.Models["GPT-3"].id == "GPT3_175B"


_WRONG = """\
schema = "mlsysim.model/1"

[sources.user_paper]
title = "My model"
authors = "Me"
year = 2024

[MyWrongLlama]
name = "Mis-stated Llama"
kind = "transformer"
task = "llm"
source = "user_paper"
params = "{params}"

[MyWrongLlama.transformer]
layers = 32
hidden = 4096
heads = 32
kv_heads = 32
ffn = 11008
ffn_gated = true
vocab = 32000
max_seq_len = 4096
"""


def test_user_model_with_wrong_count_fails_naming_file_and_entry(tmp_path, clean_registry):
    path = tmp_path / "mine.toml"
    path.write_text(textwrap.dedent(_WRONG.format(params="7.5e9 param")))
    mlsysim.add_data_dir(tmp_path)
    with pytest.raises(mlsysim.RegistryDataError) as info:
        mlsysim.Models.ids()
    message = str(info.value)
    assert "mine.toml" in message
    assert "MyWrongLlama" in message
    assert "6,738,415,616" in message


def test_user_model_with_right_count_loads(tmp_path, clean_registry):
    (tmp_path / "mine.toml").write_text(_WRONG.format(params="6.74e9 param"))
    mlsysim.add_data_dir(tmp_path)
    assert mlsysim.Models.MyWrongLlama.params.to("param").magnitude == 6.74e9
