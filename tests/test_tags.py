"""Tags and notes: set in a run's config, kept in its summary, shown and filtered by the catalog and the report."""

from __future__ import annotations

import json

import pandas as pd

from src.config import fingerprint
from src.report import make_report
from src.runs import main as catalog

from .conftest import make_config, train_into
from .test_report import write_run

SHORT = ("epochs=3",)


def test_summary_records_tags_and_notes_and_the_fingerprint_ignores_them(tmp_path):
    summary = train_into(tmp_path / "run", *SHORT, "tags=[baseline,wide]", "notes=first try")
    assert summary["tags"] == ["baseline", "wide"] and summary["notes"] == "first try"
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert on_disk["tags"] == ["baseline", "wide"] and on_disk["notes"] == "first try"
    plain = make_config(*SHORT)
    assert plain.tags == [] and plain.notes == ""
    assert summary["config_sha"] == fingerprint(plain)  # a label never makes resume train a run again


def labelled_sweep(root):
    write_run(root / "0", values={"lr": 0.5, "seed": 0, "tags": ["baseline"]}, loss=[0.6, 0.3, 0.04, 0.02])
    write_run(root / "1", values={"lr": 0.5, "seed": 1, "tags": ["baseline", "wide"], "notes": "looks odd"},
              loss=[0.6, 0.5, 0.2, 0.1])  # fmt: skip
    write_run(root / "2", values={"lr": 1.0, "seed": 0}, loss=[0.6, 0.04, 0.03, 0.01])
    return root


def test_catalog_shows_tags_and_filters_by_them(tmp_path, capsys):
    sweep = labelled_sweep(tmp_path / "sweep")
    assert catalog([str(sweep)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["path", "status", "lr", "seed", "final_loss", "epochs", "tags", "problem"]
    assert lines[2].split()[-2:] == ["baseline,", "wide"]
    assert catalog([str(sweep), "--tag", "baseline"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()[1:-2]] == [str(sweep / "0"), str(sweep / "1")]
    assert catalog([str(sweep), "--tag", "baseline", "--tag", "wide"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:-2]] == [str(sweep / "1")]
    assert catalog([str(sweep), "--tag", "nothing"]) == 0
    assert "No run matches (out of 3 runs)" in capsys.readouterr().err
    assert catalog([str(sweep), "--csv", "--tag", "wide"]) == 0
    table = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert table["tags"].tolist() == ["baseline, wide"] and table["notes"].tolist() == ["looks odd"]


def test_report_has_tags_and_notes_columns(tmp_path):
    sweep = labelled_sweep(tmp_path / "sweep")
    make_report(sweep, out_dir=tmp_path / "report")
    runs = pd.read_csv(tmp_path / "report" / "runs.csv", keep_default_na=False)
    assert runs["tags"].tolist() == ["baseline", "baseline, wide", ""]
    assert runs["notes"].tolist() == ["", "looks odd", ""]


def test_labels_do_not_split_a_setting(tmp_path):
    sweep = labelled_sweep(tmp_path / "sweep")
    make_report(sweep, out_dir=tmp_path / "report")
    settings = pd.read_csv(tmp_path / "report" / "settings.csv")
    assert settings["setting"].tolist() == ["lr=0.5", "lr=1.0"]
