"""Pure analysis (numpy/python only, no pyo): raw block taps → feature frames.

The pyo graph (``installation.engine.graph``) measures raw quantities per block — mean
squares, envelopes, YIN pitch, autocorrelation sums, centroid. Everything stateful that
turns them into features (dB conversion, onset decisions, voicing, the voice/gap state
machine) lives here so it can be tested with known answers without an audio server.
"""
