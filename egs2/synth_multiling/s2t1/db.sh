# Corpus locations. This recipe synthesizes its own corpus (local/data.sh), so
# it needs none.
