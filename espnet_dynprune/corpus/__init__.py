"""Synthetic multilingual speech corpus (ASR + ST) spoken by eSpeak NG.

Modules, one job each:

* :mod:`~espnet_dynprune.corpus.languages`: language codes, tasks, voices;
* :mod:`~espnet_dynprune.corpus.lexicon`: the parallel five-language lexicon;
* :mod:`~espnet_dynprune.corpus.sentences`: templates, numbers, normalization;
* :mod:`~espnet_dynprune.corpus.tts`: eSpeak NG backends
  (:mod:`~espnet_dynprune.corpus.espeak_server` runs the library);
* :mod:`~espnet_dynprune.corpus.augment`: trimming, resampling, noise;
* :mod:`~espnet_dynprune.corpus.kaldi_dir`: Kaldi-style data directories;
* :mod:`~espnet_dynprune.corpus.make_corpus`: planning and generation.

The command line is :mod:`espnet_dynprune.bin.make_synth_corpus`.
"""

__all__: list[str] = []
