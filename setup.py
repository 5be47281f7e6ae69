"""espnet_dynprune: context-aware dynamic pruning for ESPnet speech models."""

import os
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

# Python's site module runs this file's line at interpreter start-up: ESPnet's own
# entry points (s2t_train, s2t_inference, launch and the processes they spawn)
# then know the plugin's classes. See docs/design.md, "Registration".
STARTUP_HOOK = "espnet_dynprune-startup.pth"


class BuildPyWithStartupHook(build_py):
    """build_py that also places the start-up hook next to the package."""

    def run(self) -> None:
        super().run()
        self.copy_file(STARTUP_HOOK, os.path.join(self.build_lib, STARTUP_HOOK))

    def get_outputs(self, include_bytecode: bool = True) -> list:
        hook = os.path.join(self.build_lib, STARTUP_HOOK)
        return super().get_outputs(include_bytecode) + [hook]


class EditableWheelWithStartupHook(editable_wheel):
    """``pip install -e .``: the editable wheel carries the hook too.

    Editable wheels map packages only; the hook is added to the wheel's root
    (setuptools < 74, pinned in pyproject.toml, has this method).
    """

    def _run_build_commands(self, dist_name, unpacked_wheel, build_lib, tmp_dir):
        built = super()._run_build_commands(
            dist_name, unpacked_wheel, build_lib, tmp_dir
        )
        shutil.copy(STARTUP_HOOK, os.path.join(unpacked_wheel, STARTUP_HOOK))
        return built


setup(
    cmdclass={
        "build_py": BuildPyWithStartupHook,
        "editable_wheel": EditableWheelWithStartupHook,
    },
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
        "av>=12,<20",
        "huggingface_hub>=1.0,<3",
        # espnet 202611 made it an extra, but its CTC error-rate path imports it
        "editdistance>=0.6",
    ],
    extras_require={
        "test": ["pytest>=8", "pytest-timeout>=2.3", "ruff>=0.6"],
    },
)
