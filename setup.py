"""espnet_dynprune: context-aware dynamic pruning for ESPnet speech models."""

from setuptools import find_packages, setup

setup(
    name="espnet_dynprune",
    version="0.1.0",
    description="Context-aware dynamic pruning (gated E-Branchformer / Transformer) "
    "for ESPnet 2 S2T and ASR models",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["espnet_dynprune", "espnet_dynprune.*"]),
    package_data={"espnet_dynprune.data.synth": ["lexicon_tables/*.tsv"]},
    python_requires=">=3.10,<3.14",
    install_requires=[
        "espnet>=202511,<=202611",
        "torch>=2.1,<2.15",
        "torchaudio>=2.1,<2.12",
        "sentencepiece>=0.2",
        "soundfile>=0.12",
        "sacrebleu>=2.4",
        "jiwer>=3.0",
        "tqdm>=4.60",
        "PyYAML>=6.0",
        "espeakng-loader>=0.2.4",
        "num2words>=0.5.14",
        "soxr>=0.4",
        "matplotlib>=3.7",
        "av>=12,<19",
        "huggingface_hub>=1.0,<3",
        # espnet 202611 made it an extra, but its CTC error-rate path imports it
        "editdistance>=0.6",
    ],
    extras_require={
        "test": ["pytest>=8", "pytest-timeout>=2.3", "ruff>=0.6"],
    },
)
