"""Accuracy report: the IEC 62053-21/-22 test points on the emulated meter, per calibration step.

Runs :func:`custom_components.atm90e32.driver.accuracy.run_stages` for two CT models
(the one the emulator gives the CT presets, and a metering-grade CT), prints the percent
error table beside the class 0.5S and class 1 limits, and writes the JSON and a PNG plot
(error against current, one line per power factor, the class limits drawn).
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.atm90e32.driver.accuracy import (
    STAGES,
    STARTING_CURRENT_PERCENT,
    TEST_POINTS,
    Bench,
    IecPoint,
    StageResult,
    class_limit,
    run_stages,
    worst_margin,
)
from custom_components.atm90e32.driver.front_end import PRESET_CT_CLASS, CtModel, FrontEndErrors
from custom_components.atm90e32.driver.registers import Phase

OUT = Path(__file__).resolve().parent.parent / "docs" / "accuracy"
CT_CASES = (
    (PRESET_CT_CLASS, f"CT at the IEC 61869-2 class {PRESET_CT_CLASS} limits (the emulator's model of the presets)"),
    ("0.2S", "CT at the IEC 61869-2 class 0.2S limits (a metering-grade CT)"),
)


def bench_factory(ct_class: str) -> Bench:
    """A bench with the default front end (offsets, noise) and a CT of ``ct_class`` on phase A."""
    errors = FrontEndErrors(ct={Phase.A: CtModel(100.0, ct_class), Phase.B: None, Phase.C: None})
    return Bench(errors)


def _limit(value: float | None) -> str:
    return "  —  " if value is None else f"±{value:.1f}"


def table(title: str, results: list[StageResult]) -> str:
    """The printed table of one CT case."""
    head = f"{'test point':<16}{'0.5S':>6}{'cl.1':>6}" + "".join(f"{s:>19}" for s in STAGES)
    lines = [title, head, "-" * len(head)]
    for p in TEST_POINTS:
        row = f"{p.label:<16}{_limit(class_limit('0.5S', p)):>6}{_limit(class_limit('1', p)):>6}"
        lines.append(row + "".join(f"{r.errors[p.label]:>+18.3f}%" for r in results))
    for cls, percent in STARTING_CURRENT_PERCENT.items():
        row = f"{f'start {percent:g} % In':<16}{'' if cls == '1' else 'yes':>6}{'yes' if cls == '1' else '':>6}"
        lines.append(row + "".join(f"{'yes' if r.starting[cls][0] else 'NO':>19}" for r in results))
    lines.append(f"{'creep 24 h':<16}{'0':>6}{'0':>6}" + "".join(f"{r.creep_counts:>19}" for r in results))
    lines.append(f"{'creep, 0.24 W':<16}{'':>12}" + "".join(f"{r.former_creep_counts:>19}" for r in results))
    for cls in ("0.5S", "1"):
        verdicts = []
        for r in results:
            margin = worst_margin(r, cls)
            meets = margin >= 0 and all(s[0] for s in r.starting.values()) and r.creep_counts == 0
            verdicts.append(f"{'meets' if meets else 'fails'} ({margin:+.2f})")
        lines.append(f"{f'class {cls}':<28}" + "".join(f"{v:>19}" for v in verdicts))
    return "\n".join(lines)


def plot(cases: list[tuple[str, list[StageResult]]], path: Path) -> None:
    """Error against current after full calibration (solid) and with preset gains (dotted), limits shaded."""
    # Imported here so that --no-plot runs without matplotlib (a development requirement only).
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, axes = plt.subplots(1, len(cases), figsize=(13, 6), sharey=True)
    curves = (
        ("PF 1", 1.0, False, "tab:blue"),
        ("PF 0.5 ind.", 0.5, False, "tab:red"),
        ("PF 0.8 cap.", 0.8, True, "tab:green"),
    )
    for ax, (title, results) in zip(axes, cases, strict=True):
        first, last = results[0], results[-1]
        for name, pf, cap, color in curves:
            points = [p for p in TEST_POINTS if p.pf == pf and p.capacitive == cap]
            xs = [p.percent for p in points]
            ax.plot(xs, [last.errors[p.label] for p in points], "o-", color=color, label=f"{name}, calibrated")
            ax.plot(
                xs, [first.errors[p.label] for p in points], ":", color=color, alpha=0.6, label=f"{name}, preset gains"
            )
        for cls, style in (("0.5S", "-"), ("1", "--")):
            for pf, cap, color in ((1.0, False, "tab:blue"), (0.5, False, "tab:red")):
                grid = [0.9, 1, 2, 5, 10, 20, 50, 100, 120]
                limits = [class_limit(cls, IecPoint(x, pf, cap)) for x in grid]
                xs = [x for x, lim in zip(grid, limits, strict=True) if lim is not None]
                ys = [lim for lim in limits if lim is not None]
                label = f"class {cls} limit, {'PF 1' if pf == 1.0 else 'PF 0.5L/0.8C'}"
                ax.step(xs, ys, where="post", linestyle=style, color=color, alpha=0.35, label=label)
                ax.step(xs, [-y for y in ys], where="post", linestyle=style, color=color, alpha=0.35)
        ax.set_xscale("log")
        ax.set_xlabel("current, % of In (In = 100 A)")
        ax.set_title(title, fontsize=9)
        ax.axhline(0, color="black", linewidth=0.5)
        ax.set_ylim(-3.5, 3.5)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("active energy error, %")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8)
    fig.suptitle("ATM90E32AS emulated meter, IEC 62053-21/-22 test points (out-of-range points clipped at ±3.5 %)")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    """Run, print, write."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT, help="folder for accuracy-report.json and .png")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG (no matplotlib needed)")
    args = parser.parse_args()
    cases = []
    report_cases: list[dict[str, object]] = []
    report: dict[str, object] = {
        "stages": list(STAGES),
        "points": [p.label for p in TEST_POINTS],
        "cases": report_cases,
    }
    for ct_class, title in CT_CASES:
        results = run_stages(partial(bench_factory, ct_class))
        cases.append((title, results))
        print(table(title, results), end="\n\n")
        report_cases.append(
            {
                "ct_class": ct_class,
                "title": title,
                "limits": {p.label: {"0.5S": class_limit("0.5S", p), "1": class_limit("1", p)} for p in TEST_POINTS},
                "stages": [
                    {
                        "stage": r.stage,
                        "errors_percent": {k: round(v, 4) for k, v in r.errors.items()},
                        "starting": {
                            k: {"registers": v[0], "error_percent": round(v[1], 2)} for k, v in r.starting.items()
                        },
                        "creep_counts_24h": r.creep_counts,
                        "creep_counts_24h_former_thresholds": r.former_creep_counts,
                        "worst_margin_0.5S": round(worst_margin(r, "0.5S"), 4),
                        "worst_margin_1": round(worst_margin(r, "1"), 4),
                        "registers": r.registers,
                    }
                    for r in results
                ],
            }
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "accuracy-report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out / 'accuracy-report.json'}")
    if not args.no_plot:
        plot(cases, args.out / "accuracy-report.png")
        print(f"wrote {args.out / 'accuracy-report.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
