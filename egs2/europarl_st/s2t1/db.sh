# Corpus locations. EUROPARL_ST: the Europarl-ST v1.1 directory (the one holding
# de/ fr/ it/ ..., each with audios/*.m4a and <tgt>/<split>/segments.*), from
# https://www.mllp.upv.es/europarl-st/ (CC BY-NC 4.0). The environment wins.
EUROPARL_ST=${EUROPARL_ST:-}
