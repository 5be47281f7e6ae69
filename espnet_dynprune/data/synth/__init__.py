"""Synthetic multilingual speech corpus (ASR + ST) spoken by eSpeak NG.

Modules, one job each:

* :mod:`~espnet_dynprune.data.languages`: language codes, tasks, voices;
* :mod:`~espnet_dynprune.data.synth.lexicon`: the parallel five-language lexicon;
* :mod:`~espnet_dynprune.data.synth.sentences`: templates, numbers, normalization;
* :mod:`~espnet_dynprune.data.synth.tts`: eSpeak NG backends
  (:mod:`~espnet_dynprune.data.synth.espeak_server` runs the library);
* :mod:`~espnet_dynprune.data.synth.augment`: trimming, resampling, noise;
* :mod:`~espnet_dynprune.data.kaldi_dir`: Kaldi-style data directories;
* :mod:`~espnet_dynprune.data.synth.make_corpus`: planning and generation.

The command line is :mod:`espnet_dynprune.bin.make_synth_corpus`.
"""

__all__: list[str] = []
