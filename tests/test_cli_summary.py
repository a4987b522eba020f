"""`mobseg summary` as a user runs it: a separate process, the article's totals at the end."""

import subprocess
import sys


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "mobseg", *args], capture_output=True, text=True, timeout=300)


def test_summary_ends_with_the_article_totals():
    result = run_cli("summary", "--n-classes", "2", "--height", "416", "--width", "416")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-3:] == ["Total params: 5,541,378", "Trainable params: 5,524,738", "Non-trainable params: 16,640"]
    assert "conv_pw_11_relu" in result.stdout and "conv_pw_12" not in result.stdout


def test_summary_reports_bad_size_in_one_line():
    result = run_cli("summary", "--height", "225", "--activation", "gelu")
    assert result.returncode == 2
    assert "mobseg summary: error: mobilenet_segnet: input_height=225 is not a multiple of 16" in result.stderr
    assert "Traceback" not in result.stderr


def test_summary_options_change_the_model():
    result = run_cli("summary", "--n-classes", "3", "--height", "64", "--width", "64", "--activation", "prelu")
    assert result.returncode == 0, result.stderr
    assert "PReLU" in result.stdout


def test_summary_reports_the_cost_per_image():
    result = run_cli("summary", "--n-classes", "2", "--height", "416", "--width", "416")
    # 2 x multiply-adds of every convolution: 25.81 GFLOP per 416x416 image (shared/reference/PERFORMANCE.md)
    assert "Multiply-adds per image: 12.90 G (25.81 GFLOP)" in result.stdout
