"""The metrics every run records per epoch, and which way is better for each.

``train.metrics_of`` computes them; ``metrics.csv`` has one column each, in this order.
"""

METRICS = ("loss", "mae", "mse", "accuracy")
HIGHER_IS_BETTER = frozenset({"accuracy"})  # the others are errors: lower is better
