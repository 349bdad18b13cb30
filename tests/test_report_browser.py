"""The report in a real browser: headless Chromium opens report.html at 1,280 px wide.

It checks what a reader meets first: the page loads, every figure decodes, and the summary
and the settings table's key columns (setting, success, final value, epochs to target) are
on screen without scrolling sideways. A small script, added to a copy of the page, measures
the page after it has loaded and writes what it found into the DOM, which Chromium's
``--dump-dom`` prints. Without Chromium the test is skipped, except in CI (env ``CI`` set),
where it fails: CI installs Debian's ``chromium``.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

from src.report import make_report

from .test_report import NOT_SOLVING, SOLVING, write_run

WIDTH = 1280
PROBE = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const decoded = images.map((i) => i.complete && i.naturalWidth > 0);  // after "load", every image has loaded
  const onScreen = (element) => {
    const box = element.getBoundingClientRect();
    const frame = element.closest(".scroll");
    const right = Math.min(window.innerWidth, frame ? frame.getBoundingClientRect().right : Infinity);
    return box.width > 0 && box.left >= 0 && box.right <= right + 1;
  };
  const summary = document.getElementById("summary");
  const found = {
    width: window.innerWidth,
    images: images.length,
    decoded: decoded.filter(Boolean).length,
    summary: summary !== null && onScreen(summary),
    keys: Array.from(document.querySelectorAll("#settings th.key")).map((th) => [th.textContent, onScreen(th)]),
  };
  document.body.setAttribute("data-probe", JSON.stringify(found));
});
</script>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        reason = "Chromium is not installed (Debian: apt-get install -y chromium); the real-browser check needs it"
        if os.environ.get("CHROMIUM_INSTALL_FAILED"):
            pytest.skip(reason + ": CI tried to install it and the package registry refused")
        if os.environ.get("CI"):
            pytest.fail(reason + ", and CI must run it")
        pytest.skip(reason)
    return found


def open_in_chromium(page: str, browser: str) -> dict:
    """What the probe found in ``page`` (a file path), loaded by headless Chromium at ``WIDTH`` px."""
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", f"--window-size={WIDTH},2000", "--virtual-time-budget=10000",
             "--dump-dom", f"file://{page}"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    found = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert found, f"the page did not finish loading in Chromium: {done.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def test_the_report_reads_in_a_real_browser_at_1280_px(tmp_path):
    browser = chromium()
    params = {"W1_final": np.ones((2, 4)), "W2_final": np.ones((4, 1))}
    for k, (lr, hidden) in enumerate((lr, hidden) for lr in (0.1, 0.5, 1.0) for hidden in (2, 4, 8)):
        for seed in range(3):
            run = write_run(tmp_path / f"{k}-{seed}", values={"lr": lr, "hidden": hidden, "seed": seed},
                            loss=[0.6, 0.3 / (k + 1), 0.1 / (k + seed + 1)],
                            outputs=NOT_SOLVING if seed == 0 and lr == 0.1 else SOLVING)  # fmt: skip
            np.savez(run / "params.npz", **params)
    write_run(tmp_path / "failed", values={"lr": 0.5, "hidden": 2, "seed": 9}, status="failed", loss=None,
              outputs=None, error="RuntimeError: boom")  # fmt: skip
    report = make_report([tmp_path])
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text().replace("</body>", PROBE + "</body>"))

    found = open_in_chromium(str(probe), browser)
    assert found["width"] == WIDTH
    assert found["images"] == 4 and found["decoded"] == 4  # convergence, heatmaps, epochs to target, surfaces
    assert found["summary"], "the summary is not on screen at 1,280 px"
    keys = dict(found["keys"])
    assert list(keys) == ["setting", "success", "final loss (median)", "epochs to target (median)"]
    assert all(keys.values()), f"key columns off screen at 1,280 px: {keys}"
