"""The NumPy core: activations, losses, initialisation, the network and its optimisers.

Every parameter array carries a *population* axis ``P``, placed last so that NumPy's loops
run along the long axis: ``W1[i, j, p]`` has shape ``(n_in, n_hidden, P)``. One network is a
population of one.
"""
