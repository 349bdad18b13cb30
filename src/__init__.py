"""A research harness for studying how small neural networks learn, in plain NumPy."""
