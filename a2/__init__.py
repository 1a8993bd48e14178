"""Assignment 2: linear classifiers and a two-layer network, by hand with PyTorch tensors.

Import the modules directly (``from a2 import linear_classifier``); this package file is
kept empty so that importing one module never runs the other.
"""
