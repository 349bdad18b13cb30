"""The benchmark's references are faithful: both loops train the article's network to its numbers."""

import numpy as np

from src.bench import fewest_calls_loop, textbook_loop, times


def test_the_textbook_loop_reproduces_the_article():
    printed = textbook_loop(10000)
    assert [f"{printed[e // 1000]:.4f}" for e in (0, 1000, 9000)] == ["0.4965", "0.4948", "0.0864"]


def test_the_fewest_calls_loop_trains_the_same_network_as_the_textbook():
    outputs = fewest_calls_loop(10000)
    y = np.array([[0], [1], [1], [0]])
    printed = [float(np.mean(np.abs(y - outputs[e]))) for e in range(0, 10000, 1000)]
    np.testing.assert_allclose(printed, textbook_loop(10000), rtol=0, atol=1e-12)


def test_ratios_keep_the_digits_that_matter():
    assert [times(r) for r in (0.3141, 2.718, 141.4)] == ["0.31x", "2.7x", "141x"]
