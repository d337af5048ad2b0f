"""`asr plot RUN_DIR`: a run's CSV logs, resumed versions merged in step order, drawn as PNGs with an index."""

from pathlib import Path

import pytest
from image_utils import assert_png

from asr.cli.main import main
from asr.curves import read_run_metrics

HEADER = "epoch,lr-AdamW,step,train_loss,val_cer,val_loss,val_wer\n"
# The first start logged steps 0-5 and was killed; its last checkpoint was at step 4, where the resume began.
FIRST = HEADER + (
    ",0.01,0,,,,\n0,,0,3.0,,,\n,0.01,2,,,,\n0,,2,2.5,,,\n0,,2,,0.9,3.5,1.0\n"
    ",0.008,4,,,,\n1,,4,2.0,,,\n,0.007,5,,,,\n1,,5,1.9,,,\n"
)
RESUMED = HEADER + ",0.008,4,,,,\n1,,4,2.1,,,\n1,,5,,0.5,2.0,0.75\n,0.006,6,,,,\n2,,6,1.5,,,\n"


def run_folder(root: Path, *versions: str, numbers: tuple[int, ...] = ()) -> Path:
    """A training run's folder holding ``versions`` as csv/version_N/metrics.csv (N from ``numbers``, else 0..)."""
    for number, text in zip(numbers or range(len(versions)), versions):
        (root / "csv" / f"version_{number}").mkdir(parents=True)
        (root / "csv" / f"version_{number}" / "metrics.csv").write_text(text)
    return root


def test_resumed_versions_merge_in_step_order_the_resumed_values_winning(tmp_path):
    metrics = read_run_metrics(run_folder(tmp_path, FIRST, RESUMED, numbers=(9, 10)))  # 10 after 9, not before
    assert metrics.series["train_loss"] == [(0, 3.0), (2, 2.5), (4, 2.1), (6, 1.5)]
    assert metrics.series["val_wer"] == [(2, 1.0), (5, 0.75)]
    assert metrics.series["lr-AdamW"] == [(0, 0.01), (2, 0.01), (4, 0.008), (6, 0.006)]
    assert "epoch" not in metrics.series and "step" not in metrics.series and metrics.problems == []


def test_plot_draws_each_kind_of_curve_and_an_index(tmp_path, capsys):
    run = run_folder(tmp_path / "run", FIRST, RESUMED)
    assert main(["plot", str(run)]) == 0
    out = run / "plots"
    charts = ["error_rates.png", "learning_rate.png", "loss.png"]
    assert sorted(p.name for p in out.iterdir()) == sorted(["index.md", *charts])
    for chart in charts:
        assert_png(out / chart)
        assert f"]({chart})" in (out / "index.md").read_text()
    assert "| val_wer (%) | 2 | 75 (5) | 75 (5) |" in (out / "index.md").read_text()
    assert str(out / "index.md") in capsys.readouterr().out


def test_a_bad_row_is_skipped_counted_and_the_exit_code_says_so(tmp_path, capsys):
    run = run_folder(tmp_path, HEADER + "0,,x,1.0,,,\n0,,1,abc,,,\n0,,2,2.0,,,\n")
    assert main(["plot", str(run), "-o", str(tmp_path / "out")]) == 1
    assert "2 row(s) without a numeric step or with a non-numeric value skipped" in capsys.readouterr().err
    assert_png(tmp_path / "out" / "loss.png")


@pytest.mark.parametrize(
    "logs", [(), (HEADER,), (HEADER, ""), ("step,x\nx,1\n",)], ids=["no csv", "header only", "empty", "all bad"]
)
def test_a_run_without_metrics_is_one_line_and_exit_2(tmp_path, capsys, logs):
    run = run_folder(tmp_path / "run", *logs)
    run.mkdir(exist_ok=True)
    assert main(["plot", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {run}: ") and err.count("\n") == 1 and not (run / "plots").exists()


def test_an_unreadable_log_is_named_and_the_others_are_still_drawn(tmp_path, capsys):
    run = run_folder(tmp_path, FIRST, "placeholder")
    broken = run / "csv" / "version_1" / "metrics.csv"
    broken.write_bytes(b"epoch,step,train_loss\n\xff\xfe,1,2\n")  # not UTF-8
    assert main(["plot", str(run)]) == 1
    assert f"error: {broken}: unreadable" in capsys.readouterr().err
    assert_png(run / "plots" / "loss.png")
