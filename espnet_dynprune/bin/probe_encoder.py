"""Does a trained encoder use the audio? Spread of its states across utterances.

Usage:
    python -m espnet_dynprune.bin.probe_encoder \\
        --s2t_train_config exp/s2t_dense/config.yaml \\
        --s2t_model_file exp/s2t_dense/valid.acc.ave.pth \\
        --data_dir data/dev [--num_utts 32]

Reads the first ``--num_utts`` utterances of ``data_dir/wav.scp``, pads or
trims them to the config's ``speech_length`` (as decoding does) and prints, per
encoder stage, the spread of the hidden states across utterances relative to
their spread across frames (near 0: the encoder ignores the audio), and how many
distinct CTC greedy outputs the utterances get.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from espnet_dynprune.bin.cli import entry_point_parser
from espnet_dynprune.data.audio import AudioReadError, read_mono_audio
from espnet_dynprune.eval.probe_encoder import probe_encoder
from espnet_dynprune.eval.scoring import read_kaldi_text
from espnet_dynprune.io.model_file import load_s2t_model

__all__ = ["main"]


def _read_batch(wav_scp: Path, num_utts: int, samples: int, fs: int) -> torch.Tensor:
    """``(B, samples)``: the first utterances of ``wav_scp``, padded or trimmed."""
    rows = []
    for key, path in list(read_kaldi_text(wav_scp).items())[:num_utts]:
        try:
            audio = read_mono_audio(path, fs)
        except AudioReadError as error:
            raise ValueError(f"{wav_scp}: {key}: {error}") from error
        row = torch.zeros(samples)
        row[: min(samples, audio.size)] = torch.from_numpy(audio[:samples])
        rows.append(row)
    if len(rows) < 2:
        raise ValueError(f"{wav_scp}: need at least 2 utterances, found {len(rows)}")
    return torch.stack(rows)


def main(argv: list[str] | None = None) -> None:
    """Runs the command line; exits with status 1 on bad input."""
    parser = entry_point_parser(__spec__, __doc__)
    parser.add_argument(
        "--s2t_train_config",
        type=Path,
        required=True,
        help="the trained model's config.yaml (dense or gated)",
    )
    parser.add_argument(
        "--s2t_model_file", type=Path, required=True, help="its weights (.pth)"
    )
    parser.add_argument(
        "--data_dir",
        type=Path,
        required=True,
        help="data directory whose wav.scp gives the utterances",
    )
    parser.add_argument(
        "--num_utts",
        type=int,
        default=32,
        help="utterances to probe: the first of wav.scp (at least 2)",
    )
    args = parser.parse_args(argv)
    try:
        config, model = load_s2t_model(args.s2t_train_config, args.s2t_model_file)
        pre = config.get("preprocessor_conf") or {}
        fs = int(pre.get("fs", 16000))
        samples = round(float(pre.get("speech_length", 30)) * fs)
        speech = _read_batch(args.data_dir / "wav.scp", args.num_utts, samples, fs)
    except (OSError, ValueError) as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    probe = probe_encoder(model, speech)
    print("stage     across utterances / across frames")
    for stage in probe.stages:
        print(
            f"{stage.name:9s} {stage.ratio:6.3f}  "
            f"({stage.across_utterances:.4f} / {stage.across_time:.4f})"
        )
    print(
        f"distinct CTC greedy outputs: {len(probe.ctc_outputs)} "
        f"of {probe.num_utterances} utterances"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
