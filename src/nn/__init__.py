"""The NumPy core: activations, losses, initialisation, the network and its optimisers.

Every parameter array carries a leading *population* axis ``P``: ``W[0]`` has shape
``(P, n_in, n_hidden)``. One network is a population of one.
"""
