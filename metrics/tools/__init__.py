"""Tools beside the layers: the sample generator, the importers and the command line.

They may import any layer; nothing imports them except `python -m metrics`.
"""
