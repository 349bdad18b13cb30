"""The benchmark's reference is faithful: the textbook loop prints the article's numbers."""

from src.bench import textbook_loop, times


def test_the_textbook_loop_reproduces_the_article():
    printed = textbook_loop(10000)
    assert [f"{printed[e // 1000]:.4f}" for e in (0, 1000, 9000)] == ["0.4965", "0.4948", "0.0864"]


def test_ratios_keep_the_digits_that_matter():
    assert [times(r) for r in (0.3141, 2.718, 141.4)] == ["0.31x", "2.7x", "141x"]
