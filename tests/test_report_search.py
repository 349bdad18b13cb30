"""A sweep made by a search (Optuna) gets its trials in the report: objective by trial, best settings."""

from src.population import run_population
from src.report import make_report

from .conftest import make_config


def test_a_search_sweep_shows_its_trials_and_best_settings(tmp_path):
    sweep = tmp_path / "search"
    for trial, lr in enumerate(("0.5", "0.05", "2.0")):
        run_population([make_config(f"lr={lr}", "epochs=40")], [sweep / str(trial)])
    (sweep / "optimization_results.yaml").write_text("name: optuna\nbest_params:\n  lr: 2.0\nbest_value: 0.25\n")
    page = make_report(sweep).read_text()
    assert (sweep / "report" / "search_trials.png").is_file()
    assert "Search trials" in page or "search trials" in page
    assert "best value 0.25 with lr=2.0" in page


def test_an_ordinary_sweep_has_no_search_figure(tmp_path):
    run_population([make_config("epochs=20")], [tmp_path / "0"])
    make_report(tmp_path)
    assert not (tmp_path / "report" / "search_trials.png").exists()
