"""A random-weight CTranslate2 Transformer with a real sentencepiece vocabulary.

For tests and ``lintas bench``: it loads, tokenizes, batches and decodes exactly like a converted OPUS-MT model
(same layer layout, same files: ``model.bin``, ``config.json``, ``source.spm``, ``target.spm``), without
downloading anything.  Its translations are noise, so it measures speed and plumbing, never quality.

The default size is OPUS-MT's (Marian "transformer-base": 6+6 layers, d_model 512, 8 heads, FFN 2048, 32k
vocabulary).
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RandomModelSpec", "OPUS_MT_SIZE", "TINY", "build_random_model", "train_sentencepiece"]


@dataclass(frozen=True)
class RandomModelSpec:
    layers: tuple[int, int] = (6, 6)
    d_model: int = 512
    heads: int = 8
    ffn: int = 2048
    vocab: int = 32000
    spm_vocab: int = 8000  # pieces sentencepiece learns; the rest of ``vocab`` is filler tokens

    def as_dict(self) -> dict[str, object]:
        return {
            "layers": list(self.layers),
            "d_model": self.d_model,
            "heads": self.heads,
            "ffn": self.ffn,
            "vocab": self.vocab,
        }


OPUS_MT_SIZE = RandomModelSpec()
TINY = RandomModelSpec(layers=(2, 2), d_model=64, heads=4, ffn=128, vocab=600, spm_vocab=500)


def train_sentencepiece(sentences: Iterable[str], out_prefix: Path, vocab_size: int) -> Path:
    """Train a unigram sentencepiece model on ``sentences``; returns the ``.model`` path."""
    import sentencepiece as spm

    text = [s.strip() for s in sentences if s.strip()]
    if not text:
        raise ValueError("no sentences to train the sentencepiece model on")
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(text),
        model_writer=proto,
        vocab_size=vocab_size,
        hard_vocab_limit=False,  # small corpora: as many pieces as the text supports, up to vocab_size
        character_coverage=1.0,
        model_type="unigram",
        unk_piece="<unk>",
        bos_id=-1,
        eos_piece="</s>",
        pad_id=-1,
        minloglevel=2,
    )
    path = out_prefix.with_suffix(".model")
    path.write_bytes(proto.getvalue())
    return path


def _vocabulary(spm_path: Path, size: int, extra: Iterable[str] = ()) -> list[str]:
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(spm_path))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    for special in ("<unk>", "<s>", "</s>", "<pad>", *extra):
        if special not in pieces:
            pieces.append(special)
    if len(pieces) > size:
        raise ValueError(f"sentencepiece has {len(pieces)} pieces, more than the vocabulary size {size}")
    return pieces + [f"\u2581w{i}" for i in range(size - len(pieces))]  # filler words


def build_random_model(
    out_dir: Path,
    sentences: Iterable[str],
    spec: RandomModelSpec = OPUS_MT_SIZE,
    *,
    seed: int = 0,
    pair: tuple[str, str] = ("id", "en"),
    family: str = "opus-mt",
) -> Path:
    """Write a random-weight Transformer (``spec``) to ``out_dir`` with a sentencepiece model trained on
    ``sentences`` (shared by source and target) and a ``lintas.json`` describing it.  Weights are float16
    (CTranslate2 quantizes to int8 on load).  Returns ``out_dir``.

    ``family`` lays the files out as that family's converted models are (``source.spm`` and ``target.spm`` for
    OPUS-MT, ``sentencepiece.bpe.model`` for NLLB and M2M-100, ``spiece.model`` for MADLAD) and puts its language
    codes in the vocabulary; a multilingual family covers every pair."""
    import ctranslate2
    import numpy as np

    from lintas.engines.ct2_models import CODES, LANGUAGES, TOKENIZERS

    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty")
    with tempfile.TemporaryDirectory() as tmp:
        spm_path = train_sentencepiece(sentences, Path(tmp) / "spm", spec.spm_vocab)
        codes = list(CODES[family].values()) if family != "opus-mt" else []
        vocab = _vocabulary(spm_path, spec.vocab, codes)
        d, ffn, v = spec.d_model, spec.ffn, spec.vocab

        def normal(*shape: int, scale: float = 0.02) -> object:
            return (rng.standard_normal(shape, dtype=np.float32) * scale).astype(np.float16)

        def linear(layer: object, out: int, inp: int) -> None:
            layer.weight = normal(out, inp)  # type: ignore[attr-defined]
            layer.bias = np.zeros(out, dtype=np.float16)  # type: ignore[attr-defined]

        def norm(layer: object) -> None:
            layer.gamma = np.ones(d, dtype=np.float16)  # type: ignore[attr-defined]
            layer.beta = np.zeros(d, dtype=np.float16)  # type: ignore[attr-defined]

        def ffn_layer(layer: object) -> None:
            norm(layer.layer_norm)  # type: ignore[attr-defined]
            linear(layer.linear_0, ffn, d)  # type: ignore[attr-defined]
            linear(layer.linear_1, d, ffn)  # type: ignore[attr-defined]

        model = ctranslate2.specs.TransformerSpec.from_config(spec.layers, spec.heads, pre_norm=True)
        for side in (model.encoder, model.decoder):
            embeddings = side.embeddings if isinstance(side.embeddings, list) else [side.embeddings]
            for emb in embeddings:
                emb.weight = normal(v, d, scale=d**-0.5)
            norm(side.layer_norm)
        for layer in model.encoder.layer:
            norm(layer.self_attention.layer_norm)
            linear(layer.self_attention.linear[0], 3 * d, d)
            linear(layer.self_attention.linear[1], d, d)
            ffn_layer(layer.ffn)
        for layer in model.decoder.layer:
            norm(layer.self_attention.layer_norm)
            linear(layer.self_attention.linear[0], 3 * d, d)
            linear(layer.self_attention.linear[1], d, d)
            norm(layer.attention.layer_norm)
            linear(layer.attention.linear[0], d, d)
            linear(layer.attention.linear[1], 2 * d, d)
            linear(layer.attention.linear[2], d, d)
            ffn_layer(layer.ffn)
        linear(model.decoder.projection, v, d)
        model.register_source_vocabulary(vocab)
        model.register_target_vocabulary(vocab)
        model.validate()
        model.optimize(quantization="float16")
        out_dir.mkdir(parents=True, exist_ok=True)
        model.save(str(out_dir))
        for name in set(TOKENIZERS[family]):
            shutil.copy(spm_path, out_dir / name)
    pairs = (
        [f"{pair[0]}-{pair[1]}"]
        if family == "opus-mt"
        else [f"{s}-{t}" for s in LANGUAGES for t in LANGUAGES if s != t]
    )
    (out_dir / "lintas.json").write_text(
        json.dumps(
            {
                "family": family,
                "pairs": pairs,
                "random_weights": True,
                "seed": seed,
                "size": spec.as_dict(),
            },
            indent=2,
        )
    )
    return out_dir
