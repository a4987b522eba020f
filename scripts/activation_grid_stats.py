"""Statistics, tables, claims and the plot of the activation grid (``scripts/activation_study.py``).

Pure Python on the records of ``results.json`` and ``costs.json`` (no Keras, no scipy): mean ± sample standard
deviation per configuration, the PAIRED comparison of two configurations over the seeds they share (a paired t
test against a hard-coded table of Student t critical values), Markdown tables, the verdicts on the articles'
claims, and the plot.

A run record has at least ``init`` (``scratch`` / ``imagenet``), ``model``, ``activation``, ``decoder``
(``off`` / ``on``), ``seed`` and ``val_mean_iou`` (``None`` when the run diverged). Records of the issue-7 study
(``results/activation_study``) lack ``init`` and ``model``; :func:`normalize_runs` fills them in
(``scratch``, ``mobilenet_segnet``).
"""

from __future__ import annotations

import io
import math
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: Two-sided 95% critical values of Student's t for 1..30 degrees of freedom (t_{0.975, df}).
T_CRITICAL_95: tuple[float, ...] = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
EXCEEDS, WITHIN, UNTESTABLE = "exceeds seed noise", "within seed noise", "one seed: not testable"
SUPPORTED, PARTLY, NOT_SUPPORTED, NOT_MEASURABLE = (
    "supported",
    "partly supported",
    "not supported",
    "not measurable here",
)
BASELINE = "relu6"
#: TFLite ops that are an activation on their own (not fused into the convolution before them).
ACTIVATION_OPS = frozenset(
    {"RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LOGISTIC", "TANH", "LEAKY_RELU", "PRELU", "ELU", "HARD_SWISH",
     "GELU"}
)  # fmt: skip


def t_critical(df: int) -> float:
    """Two-sided 95% critical value of Student's t; beyond 30 degrees of freedom df 30's (slightly conservative).

    Example:
        >>> t_critical(1), t_critical(2), t_critical(100)
        (12.706, 4.303, 2.042)
    """
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1; got {df}")
    return T_CRITICAL_95[min(df, len(T_CRITICAL_95)) - 1]


def paired_comparison(values: dict[int, float | None], baseline: dict[int, float | None]) -> dict[str, Any]:
    """Paired comparison over the seeds both sides have (a run that diverged, ``None``, drops its seed).

    Differences ``d = values[seed] - baseline[seed]``: their mean, sample standard deviation, the paired t
    statistic ``mean / (sd / sqrt(n))`` with ``n - 1`` degrees of freedom, the 95% confidence interval of the mean
    difference and the verdict: ``"exceeds seed noise"`` when ``|t|`` is above the two-sided 95% critical value,
    ``"within seed noise"`` when not, ``"one seed: not testable"`` with fewer than two pairs.

    Example:
        >>> r = paired_comparison({0: 0.30, 1: 0.32, 2: 0.31}, {0: 0.20, 1: 0.21, 2: 0.20})
        >>> r["n"], round(r["mean_diff"], 3), r["verdict"]
        (3, 0.107, 'exceeds seed noise')
    """
    seeds = sorted(s for s in set(values) & set(baseline) if values[s] is not None and baseline[s] is not None)
    diffs = [values[s] - baseline[s] for s in seeds]
    n = len(diffs)
    result: dict[str, Any] = {"n": n, "seeds": seeds, "diffs": [round(d, 5) for d in diffs], "mean_diff": None,
                              "sd_diff": None, "t": None, "df": None, "t_crit": None, "ci95": None,
                              "verdict": UNTESTABLE}  # fmt: skip
    if n == 0:
        return result
    mean = statistics.fmean(diffs)
    result["mean_diff"] = mean
    if n < 2:
        return result
    sd = statistics.stdev(diffs)
    crit = t_critical(n - 1)
    # identical differences (sd 0): infinitely sure of a non-zero one, no evidence of a zero one
    zero_sd = math.copysign(math.inf, mean) if mean else 0.0
    t = mean / (sd / math.sqrt(n)) if sd > 0 else zero_sd
    half = crit * sd / math.sqrt(n)
    result.update(sd_diff=sd, t=t, df=n - 1, t_crit=crit, ci95=[mean - half, mean + half])
    result["verdict"] = EXCEEDS if abs(t) > crit else WITHIN
    return result


def normalize_runs(runs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of the run records with ``init`` and ``model`` filled in (issue-7 records lack them).

    Example:
        >>> normalize_runs([{"activation": "relu6"}])[0]["init"]
        'scratch'
    """
    return [{"init": "scratch", "model": "mobilenet_segnet", **run} for run in runs]


def seed_values(runs: list[dict[str, Any]], init: str, model: str, activation: str, decoder: str) -> dict[int, Any]:
    """``{seed: val_mean_iou}`` of one configuration (``None`` for a run that diverged).

    Example:
        >>> seed_values([{"init": "scratch", "model": "m", "activation": "relu", "decoder": "off", "seed": 0,
        ...               "val_mean_iou": 0.5}], "scratch", "m", "relu", "off")
        {0: 0.5}
    """
    return {
        r["seed"]: r.get("val_mean_iou")
        for r in runs
        if (r["init"], r["model"], r["activation"], r["decoder"]) == (init, model, activation, decoder)
    }


#: ``run_machine`` of runs made on more than one machine.
SEVERAL = "several machines"


def run_machine(runs: list[dict[str, Any]]) -> str:
    """The machine the runs were made on (their ``machine``, else ``device``), or :data:`SEVERAL`.

    Example:
        >>> run_machine([{"device": "cpu: X"}, {"machine": "cpu: X, AVX2", "device": "cpu: X"}])
        'several machines'
    """
    found = {run.get("machine") or run.get("device") or "?" for run in runs}
    return found.pop() if len(found) == 1 else SEVERAL


def config_key(model: str, activation: str, decoder: str) -> str:
    """The key of one model configuration in costs.json: ``"mobilenet_unet|gelu|off"``.

    Example:
        >>> config_key("mobilenet_segnet", "gelu", "on")
        'mobilenet_segnet|gelu|on'
    """
    return f"{model}|{activation}|{decoder}"


def _order(activations: Iterable[str], known: tuple[str, ...]) -> list[str]:
    index = {name: i for i, name in enumerate(known)}
    return sorted(set(activations), key=lambda a: (index.get(a, len(index)), a))


def summarize(
    runs: list[dict[str, Any]], costs: dict[str, Any] | None = None, order: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """One row per (init, model, decoder, activation): mean, sample sd and range of val mean IoU over the seeds.

    ``costs``: ``costs.json``'s ``configs`` (interleaved timing); "step vs relu6" compares those where both were
    measured on one machine, else the median training steps measured during the runs (same init, model and
    decoder setting) where both ran on one machine (``machine``, else ``device``, of the records), else ``None``.

    Example:
        >>> runs = [{"init": "scratch", "model": "m", "activation": "relu6", "decoder": "off", "seed": s,
        ...          "val_mean_iou": v, "step_ms_median": 10.0} for s, v in ((0, 0.4), (1, 0.5))]
        >>> row = summarize(runs)[0]
        >>> round(row["miou_mean"], 2), round(row["miou_sd"], 3), row["n_seeds"]
        (0.45, 0.071, 2)
    """
    runs = normalize_runs(runs)
    costs = costs or {}
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["init"], run["model"], run["decoder"], run["activation"]), []).append(run)
    rows = []
    for init, model, decoder in sorted({k[:3] for k in groups}):
        base = groups.get((init, model, decoder, BASELINE))
        base_ms = statistics.median(r["step_ms_median"] for r in base) if base else None
        base_machine = run_machine(base) if base else None
        base_cost = costs.get(config_key(model, BASELINE, decoder), {})
        for activation in _order((k[3] for k in groups if k[:3] == (init, model, decoder)), order):
            items = groups[(init, model, decoder, activation)]
            values = [r["val_mean_iou"] for r in items if r.get("val_mean_iou") is not None]
            ms, machine = statistics.median(r["step_ms_median"] for r in items), run_machine(items)
            cost = costs.get(config_key(model, activation, decoder), {})
            bench, base_bench = cost.get("train_ms"), base_cost.get("train_ms")
            if cost.get("machine") != base_cost.get("machine"):
                bench = base_bench = None  # timings of two machines: not compared
            same_machine = base_ms and machine == base_machine and machine != SEVERAL
            vs = bench / base_bench if bench and base_bench else (ms / base_ms if same_machine else None)
            rows.append({
                "init": init, "model": model, "activation": activation, "decoder": decoder,
                "n_seeds": len(items), "seeds": sorted(r["seed"] for r in items),
                "miou_per_seed": [round(v, 4) for v in values],
                "miou_mean": statistics.fmean(values) if values else None,
                "miou_sd": statistics.stdev(values) if len(values) > 1 else None,
                "miou_min": min(values) if values else None, "miou_max": max(values) if values else None,
                "diverged": sum(bool(r.get("diverged")) for r in items),
                "step_ms": ms, "bench_train_ms": cost.get("train_ms"), "machine": machine,
                "step_vs_relu6": vs,
            })  # fmt: skip
    return rows


def paired_table(runs: list[dict[str, Any]], baseline: str = BASELINE, order: tuple[str, ...] = ()) -> list[dict]:
    """Every configuration against ``baseline`` with the same init, model and decoder setting, paired by seed.

    Example:
        >>> runs = [{"init": "scratch", "model": "m", "activation": a, "decoder": "off", "seed": s, "val_mean_iou": v}
        ...         for a, vs in (("relu6", (0.2, 0.3)), ("elu", (0.25, 0.36))) for s, v in enumerate(vs)]
        >>> [(r["activation"], r["n"], round(r["mean_diff"], 3)) for r in paired_table(runs)]
        [('elu', 2, 0.055)]
    """
    runs = normalize_runs(runs)
    rows = []
    for init, model, decoder in sorted({(r["init"], r["model"], r["decoder"]) for r in runs}):
        base = seed_values(runs, init, model, baseline, decoder)
        if not base:
            continue
        names = {r["activation"] for r in runs if (r["init"], r["model"], r["decoder"]) == (init, model, decoder)}
        for activation in _order(names - {baseline}, order):
            values = seed_values(runs, init, model, activation, decoder)
            rows.append({"init": init, "model": model, "decoder": decoder, "activation": activation,
                         "baseline": baseline, **paired_comparison(values, base)})  # fmt: skip
    return rows


def decoder_table(runs: list[dict[str, Any]], order: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Decoder activation on minus off, same init, model and encoder activation, paired by seed.

    Example:
        >>> runs = [{"init": "scratch", "model": "m", "activation": "relu6", "decoder": d, "seed": 0,
        ...          "val_mean_iou": v} for d, v in (("off", 0.2), ("on", 0.25))]
        >>> [(r["activation"], r["n"], r["verdict"]) for r in decoder_table(runs)]
        [('relu6', 1, 'one seed: not testable')]
    """
    runs = normalize_runs(runs)
    rows = []
    on = {(r["init"], r["model"], r["activation"]) for r in runs if r["decoder"] == "on"}
    for init, model in sorted({(i, m) for i, m, _ in on}):
        for activation in _order((a for i, m, a in on if (i, m) == (init, model)), order):
            off = seed_values(runs, init, model, activation, "off")
            if off:
                values = seed_values(runs, init, model, activation, "on")
                rows.append({"init": init, "model": model, "activation": activation,
                             **paired_comparison(values, off)})  # fmt: skip
    return rows


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def markdown_summary(rows: list[dict[str, Any]]) -> str:
    """One (init, model)'s summary rows as a Markdown table.

    Example:
        >>> print(markdown_summary([]).splitlines()[0])
        | encoder activation | decoder activation | seeds | val mIoU mean ± sd | min - max | ms/step in training \
| ms/step interleaved | step vs relu6 | trained on |
    """
    lines = [
        "| encoder activation | decoder activation | seeds | val mIoU mean ± sd | min - max | ms/step in training "
        "| ms/step interleaved | step vs relu6 | trained on |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['activation']} | {'same' if r['decoder'] == 'on' else 'none (article)'} | {r['n_seeds']} "
            f"| {_fmt(r['miou_mean'])} ± {_fmt(r['miou_sd'])} | {_fmt(r['miou_min'])} - {_fmt(r['miou_max'])} "
            f"| {_fmt(r['step_ms'], '.0f')} | {_fmt(r.get('bench_train_ms'), '.0f')} "
            f"| {_fmt(r['step_vs_relu6'], '.2f')}x | {r.get('machine', '-')} |"
        )
    return "\n".join(lines)


def markdown_paired(rows: list[dict[str, Any]], against: str = "relu6") -> str:
    """Paired comparisons as a Markdown table (``against``: the header of the compared-to column).

    Example:
        >>> print(markdown_paired([]).splitlines()[0])
        | init | model | decoder | activation | vs | pairs | mean diff | sd of diffs | t (df) | 95% CI | verdict |
    """
    lines = [
        "| init | model | decoder | activation | vs | pairs | mean diff | sd of diffs | t (df) | 95% CI | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ci = "-" if r["ci95"] is None else f"{r['ci95'][0]:+.3f} .. {r['ci95'][1]:+.3f}"
        t = "-" if r["t"] is None else f"{r['t']:+.2f} ({r['df']})"
        lines.append(
            f"| {r['init']} | {r['model']} | {r.get('decoder', 'on - off')} | {r['activation']} "
            f"| {r.get('baseline', against)} | {r['n']} | {_fmt(r['mean_diff'], '+.3f')} | {_fmt(r['sd_diff'])} "
            f"| {t} | {ci} | {r['verdict']} |"
        )
    return "\n".join(lines)


def extra_ops(tflite_f32: dict[str, Any], relu6_f32: dict[str, Any]) -> int | None:
    """Ops of a TFLite float32 file beyond those of the relu6 file of the same model (``None`` if either is missing).

    Counting whole files rather than named activation ops catches activations that TFLite decomposes (selu: EXP,
    GREATER, SELECT, SUB and MUL per layer; mish: EXP, LOG, ADD, TANH and MUL); relu6 fuses into the convolution.

    Example:
        >>> extra_ops({"ops": 219}, {"ops": 58}), extra_ops({"ops": 58}, {})
        (161, None)
    """
    if tflite_f32.get("ops") is None or relu6_f32.get("ops") is None:
        return None
    return tflite_f32["ops"] - relu6_f32["ops"]


def markdown_costs(configs: dict[str, dict[str, Any]]) -> str:
    """costs.json's configurations as a Markdown table (``-`` where not measured), with the machine of each.

    Example:
        >>> markdown_costs({}).splitlines()[0].split(" | ")[:4]
        ['| model', 'activation', 'decoder', 'params']
    """
    lines = [
        "| model | activation | decoder | params | vs relu6 | ms/train step | ms/forward | TFLite f32 ms "
        "| TFLite int8 ms | int8 agreement | TFLite ops f32 (vs relu6) | machine |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, c in configs.items():
        model, activation, decoder = key.split("|")
        base = configs.get(config_key(model, BASELINE, decoder), {})
        extra = c["params"] - base["params"] if base.get("params") is not None else None
        f32, int8 = c.get("tflite", {}).get("float32", {}), c.get("tflite", {}).get("int8", {})
        agreement = int8.get("agreement")
        more_ops = extra_ops(f32, base.get("tflite", {}).get("float32", {}))
        lines.append(
            f"| {model} | {activation} | {decoder} | {c['params']:,} | {'-' if extra is None else f'{extra:+,}'} "
            f"| {_fmt(c.get('train_ms'), '.0f')} | {_fmt(c.get('predict_ms'), '.0f')} | {_fmt(f32.get('ms'), '.2f')} "
            f"| {_fmt(int8.get('ms'), '.2f')} | {'-' if agreement is None else f'{100 * agreement:.1f}%'} "
            f"| {f32.get('ops', '-')} ({'-' if more_ops is None else f'{more_ops:+}'}) | {c.get('machine') or '-'} |"
        )
    return "\n".join(lines)


def initial_weight_groups(runs: list[dict[str, Any]]) -> dict[str, list[str]]:
    """``"init|model|seed"`` -> the distinct initial-weight fingerprints of its runs (one each when the grid is fair).

    Example:
        >>> runs = [{"init": "scratch", "model": "m", "seed": 0, "activation": a, "init_fingerprint": "ab"}
        ...         for a in ("relu6", "prelu")]
        >>> initial_weight_groups(runs)
        {'scratch|m|0': ['ab']}
    """
    groups: dict[str, set[str]] = {}
    for run in normalize_runs(runs):
        if run.get("init_fingerprint"):
            groups.setdefault(f"{run['init']}|{run['model']}|{run['seed']}", set()).add(run["init_fingerprint"])
    return {key: sorted(values) for key, values in sorted(groups.items())}


def plot(runs: list[dict[str, Any]], rows: list[dict[str, Any]], path: Path, order: tuple[str, ...] = ()) -> None:
    """One row of panels per (init, model): val mean IoU (bar: mean, dots: seeds) and median ms per step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mobseg.io.atomic import atomic_write

    runs = normalize_runs(runs)
    panels = sorted({(r["init"], r["model"]) for r in rows})
    fig, axes = plt.subplots(len(panels), 2, figsize=(13, 3.8 * len(panels)), squeeze=False)
    for (init, model), (ax1, ax2) in zip(panels, axes, strict=True):
        mine = [r for r in rows if (r["init"], r["model"]) == (init, model)]
        names = _order((r["activation"] for r in mine), order)
        x = list(range(len(names)))
        for offset, decoder, color in ((-0.2, "off", "tab:blue"), (0.2, "on", "tab:orange")):
            table = {r["activation"]: r for r in mine if r["decoder"] == decoder}
            idx = [i for i, a in enumerate(names) if a in table]
            if not idx:
                continue
            label = "decoder activation: none (article)" if decoder == "off" else "decoder activation: same"
            at = [i + offset for i in idx]
            ax1.bar(at, [table[names[i]]["miou_mean"] or 0 for i in idx], 0.38, color=color, alpha=0.6, label=label)
            ms = [table[names[i]].get("bench_train_ms") or table[names[i]]["step_ms"] for i in idx]
            ax2.bar(at, ms, 0.38, color=color, alpha=0.8, label=label)
            for run in runs:
                mine_run = (run["init"], run["model"], run["decoder"]) == (init, model, decoder)
                if mine_run and run["activation"] in names and run.get("val_mean_iou") is not None:
                    ax1.plot(names.index(run["activation"]) + offset, run["val_mean_iou"], "k.", ms=5)
        ax1.set_ylabel(f"{init}, {model}\nval mean IoU (dots: seeds)", fontsize=8)
        ax2.set_ylabel("ms per training step", fontsize=8)
        for ax in (ax1, ax2):
            ax.set_xticks(x, names, rotation=30, fontsize=8)
            ax.grid(axis="y", alpha=0.3)
        ax1.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    atomic_write(path, lambda stream: stream.write(buffer.getvalue()))


#: The articles' claims, in our words: (id, claim).
CLAIMS: tuple[tuple[str, str], ...] = (
    ("a", "sigmoid and tanh saturate: their gradients vanish and deep networks train worse with them"),
    ("b", "ReLU can leave dead units; Leaky ReLU and PReLU keep a slope below zero and do better than ReLU"),
    ("c", "the smoother ELU, Swish, Mish and GELU give better accuracy than ReLU"),
    ("d", "ReLU6 is the choice for low-precision phones: int8-friendly, fused into the convolution by TFLite"),
    ("e", "softmax at the output gives every pixel a probability per class (multi-class masks)"),
)
#: Claims (a)-(c): the activations compared with ReLU, and the sign of the claimed difference.
ACCURACY_CLAIMS: dict[str, tuple[tuple[str, ...], int]] = {
    "a": (("sigmoid", "tanh"), -1),
    "b": (("leaky_relu", "prelu"), +1),
    "c": (("elu", "swish", "mish", "gelu"), +1),
}


def _short(model: str) -> str:
    return model.replace("mobilenet_", "")


def claim_comparisons(runs: list[dict[str, Any]], activations: Iterable[str], baseline: str) -> list[dict[str, Any]]:
    """Paired comparisons of ``activations`` with ``baseline``, decoder off, for every (init, model) that ran both.

    Example:
        >>> claim_comparisons([], ["elu"], "relu")
        []
    """
    runs = normalize_runs(runs)
    found = []
    for init, model in sorted({(r["init"], r["model"]) for r in runs}):
        base = seed_values(runs, init, model, baseline, "off")
        for activation in activations:
            values = seed_values(runs, init, model, activation, "off")
            if base and values:
                found.append({"init": init, "model": model, "activation": activation, "baseline": baseline,
                              **paired_comparison(values, base)})  # fmt: skip
    return found


def direction_verdict(comparisons: list[dict[str, Any]], sign: int) -> str:
    """``supported`` when every testable comparison exceeds seed noise in the claimed direction (``sign``),
    ``partly supported`` when some do, ``not supported`` when none does, ``not measurable here`` when none is
    testable (not run, or one seed).

    Example:
        >>> up = {"verdict": EXCEEDS, "mean_diff": 0.05}
        >>> direction_verdict([up], +1), direction_verdict([up], -1), direction_verdict([], +1)
        ('supported', 'not supported', 'not measurable here')
    """
    testable = [c for c in comparisons if c["verdict"] != UNTESTABLE]
    if not testable:
        return NOT_MEASURABLE
    hits = [c for c in testable if c["verdict"] == EXCEEDS and sign * c["mean_diff"] > 0]
    return SUPPORTED if len(hits) == len(testable) else PARTLY if hits else NOT_SUPPORTED


def _accuracy_claim(runs: list[dict[str, Any]], claim: str) -> tuple[str, str]:
    activations, sign = ACCURACY_CLAIMS[claim]
    baseline = "relu" if any(r["activation"] == "relu" for r in runs) else BASELINE
    comparisons = claim_comparisons(runs, activations, baseline)
    if not comparisons:
        return f"not run ({', '.join(activations)} and {baseline} with the decoder activation off)", NOT_MEASURABLE
    parts = [
        f"{c['activation']} {_fmt(c['mean_diff'], '+.3f')} vs {baseline} ({c['init']}, {_short(c['model'])}, "
        f"{c['n']} seeds: {c['verdict']})"
        for c in comparisons
    ]
    return "; ".join(parts), direction_verdict(comparisons, sign)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _relu6_cost_checks(configs: dict[str, dict[str, Any]], model: str) -> tuple[str, list[bool]] | None:
    """Claim (d) for one model: relu6 fused (no activation op of its own), its int8 latency and agreement."""
    mine = {k.split("|")[1]: v.get("tflite", {}) for k, v in configs.items() if k.startswith(f"{model}|")}
    mine = {a: t for a, t in mine.items() if has_tflite(t)}
    if BASELINE not in mine or len(mine) < 2:
        return None
    relu6, others = mine.pop(BASELINE), list(mine.values())
    ops = relu6["float32"]["activation_ops"]
    extras = [extra_ops(o["float32"], relu6["float32"]) or 0 for o in others]
    others_extra, fewest = _median(extras), all(extra >= 0 for extra in extras)
    ms, others_ms = relu6["int8"]["ms"], _median([o["int8"]["ms"] for o in others])
    agree = relu6["int8"].get("agreement")
    others_agree = _median([o["int8"]["agreement"] for o in others if o["int8"].get("agreement") is not None])
    checks = [ops == 0 and fewest, ms <= others_ms]
    text = (
        f"{_short(model)}: relu6 has {ops} activation ops of its own in TFLite float32 and "
        f"{'the fewest' if fewest else 'not the fewest'} ops (others: median {_fmt(others_extra, '+.0f')} ops); "
        f"int8 {ms:.2f} ms/image vs median {others_ms:.2f} of {len(others)} others"
    )
    if agree is not None and others_agree is not None:
        checks.append(agree >= others_agree)
        text += f"; int8 argmax agreement {100 * agree:.1f}% vs median {100 * others_agree:.1f}%"
    return text, checks


def has_tflite(tflite: dict[str, Any]) -> bool:
    """True when a costs entry has both TFLite measurements (float32 and int8 latency).

    Example:
        >>> has_tflite({"float32": {"ms": 1.0, "activation_ops": 0}, "int8": {"ms": 0.5}}), has_tflite({})
        (True, False)
    """
    return bool(tflite.get("float32", {}).get("ms") is not None and tflite.get("int8", {}).get("ms") is not None)


def _relu6_claim(costs: dict[str, Any] | None) -> tuple[str, str]:
    configs = (costs or {}).get("configs", {})
    models = sorted({k.split("|")[0] for k in configs})
    found = [r for r in (_relu6_cost_checks(configs, m) for m in models) if r is not None]
    if not found:
        note = (costs or {}).get("tflite_note") or "no TFLite costs of relu6 and another activation (run --costs)"
        return note, NOT_MEASURABLE
    checks = [c for _, cs in found for c in cs]
    verdict = SUPPORTED if all(checks) else PARTLY if any(checks) else NOT_SUPPORTED
    return "; ".join(text for text, _ in found), verdict


def _softmax_claim(runs: list[dict[str, Any]], costs: dict[str, Any] | None) -> tuple[str, str]:
    outputs = sorted({r["output_activation"] for r in runs if r.get("output_activation")})
    if not outputs:
        return "the output layer was not recorded (no runs, or runs made before issue 17)", NOT_MEASURABLE
    errors = [c["output_sum_error"] for c in (costs or {}).get("configs", {}).values() if "output_sum_error" in c]
    text = f"every run's model ends in {' / '.join(outputs)}"
    if errors:
        text += f"; per-pixel probabilities sum to 1 within {max(errors):.1e}"
    if len(outputs) == 1:  # the output layer was not varied: nothing to compare it with
        return text + "; the output activation was not varied, so there is nothing to compare", NOT_MEASURABLE
    return text, NOT_MEASURABLE  # varied output layers would need their own paired comparison (not in this grid)


def claims(runs: list[dict[str, Any]], costs: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """One row per claim of :data:`CLAIMS`: what we measured and the verdict, computed from the records.

    Example:
        >>> [row["verdict"] for row in claims([])]
        ['not measurable here', 'not measurable here', 'not measurable here', 'not measurable here', \
'not measurable here']
    """
    runs = normalize_runs(runs)
    rows = []
    for claim, text in CLAIMS:
        if claim in ACCURACY_CLAIMS:
            measured, verdict = _accuracy_claim(runs, claim)
        elif claim == "d":
            measured, verdict = _relu6_claim(costs)
        else:
            measured, verdict = _softmax_claim(runs, costs)
        rows.append({"claim": claim, "text": text, "measured": measured, "verdict": verdict})
    return rows


def markdown_claims(rows: list[dict[str, str]]) -> str:
    """The claims as a Markdown table.

    Example:
        >>> print(markdown_claims([]).splitlines()[0])
        | | the articles claim | we measured | verdict |
    """
    lines = ["| | the articles claim | we measured | verdict |", "|---|---|---|---|"]
    lines += [f"| ({r['claim']}) | {r['text']} | {r['measured']} | **{r['verdict']}** |" for r in rows]
    return "\n".join(lines)
