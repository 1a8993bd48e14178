"""Assignment 3, part 1: fully connected networks from modular layers, trained with a Solver,
better optimizers and dropout, by hand with PyTorch tensors.

Import the module directly (``from a3 import fully_connected_networks``); this package file is
kept empty so that importing it runs nothing.
"""
