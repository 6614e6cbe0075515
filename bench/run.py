"""Run every benchmark: tapeflow vs TensorFlow vs PyTorch (vs Keras 3) in one run, each
contender in a process of its own, alternated; print a table of medians and ratios, with the
machine's load; write JSON and docs/benchmarks.md.

    python -m bench [--quick] [--only NAME ...] [--device cpu|cuda] [--out DIR] [--markdown PATH]
                    [--in-process] [--busy N]

--busy N keeps N other processes spinning on the CPU meanwhile (a busy machine);
--in-process runs every contender in this process (quicker to start; the smoke test uses it).
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys
import textwrap

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import workloads  # noqa: E402
from bench.harness import format_time, measure  # noqa: E402


def machine():
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpu": _cpu_name(), "cpu_count": os.cpu_count(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    for module in ("tapeflow", "tensorflow", "torch", "numpy"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            info[module] = "missing"
    try:
        import torch
        info["torch_threads"] = torch.get_num_threads()
        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    except ImportError:
        info["gpu"] = "unknown"
    return info


def _cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ratios(results):
    """tapeflow-contender / other-contender for every pair that ran."""
    ours = [r for r in results if r.contender.startswith("tapeflow") and r.seconds]
    others = [r for r in results if not r.contender.startswith("tapeflow") and r.seconds]
    out = []
    for t in ours:
        for o in others:
            out.append((t.contender, o.contender, t.seconds / o.seconds))
    if len(ours) == 2:  # e.g. tapeflow function vs tapeflow eager
        out.append((ours[1].contender, ours[0].contender, ours[1].seconds / ours[0].seconds))
    return out


PEAK_MEMORY_SCRIPT = textwrap.dedent("""
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.path.insert(0, {root!r})
    from bench.data import fashion_mnist, synthetic
    from bench.workloads import _seed_model
    x, y = fashion_mnist({n}) or synthetic({n})
    import {module} as m
    model = _seed_model(m.keras)
    model.fit(x, y, batch_size=128, epochs=1, verbose=0)
    # VmHWM, not ru_maxrss: the latter keeps the parent's high-water mark across fork+exec
    print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")))
""")


def peak_memory(quick, log=print):
    """Peak resident memory of a process that loads the data and fits the seed model once."""
    n = 10000 if quick else 60000
    rows = []
    for contender, module in (("tapeflow", "tapeflow"), ("Keras 3 (TF)", "tensorflow")):
        script = PEAK_MEMORY_SCRIPT.format(root=str(ROOT), n=n, module=module)
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["failed"])[-1]
            rows.append({"contender": contender, "missing": last[:160]})
        else:
            rows.append({"contender": contender,
                         "peak_mb": int(done.stdout.split()[-1]) / 1024})
    for r in rows:
        text = f"{r['peak_mb']:.0f} MB" if "peak_mb" in r else "missing: " + r["missing"]
        log(f"  {r['contender']:<16} {text:>12}")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description="tapeflow benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes (under 2 minutes)")
    parser.add_argument("--only", nargs="*", help="workload names to run")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--in-process", action="store_true",
                        help="run every contender in this process, not one process each")
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="keep N processes spinning on the CPU meanwhile (a busy machine)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"),
                        help="folder for the JSON results")
    parser.add_argument("--markdown", default=None,
                        help="write the markdown table here (default: docs/benchmarks.md "
                             "for a full run, nothing for --quick)")
    args = parser.parse_args(argv)
    if args.device == "cuda":
        import torch
        if not torch.cuda.is_available():
            parser.error("--device cuda: torch sees no CUDA device here")
    info = machine()
    info["device"] = args.device
    info["load_before"] = os.getloadavg()[0]
    info["busy_processes"] = args.busy
    info["in_process"] = args.in_process
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(args.busy)]
    try:
        return _run(args, info)
    finally:
        for p in spinners:
            p.kill()


def _run(args, info):
    print(f"tapeflow benchmarks ({'quick' if args.quick else 'full'}, {args.device}) on "
          f"{info['cpu']} x{info['cpu_count']}, gpu: {info['gpu']}")
    print(f"versions: tapeflow {info['tapeflow']}, tensorflow {info['tensorflow']}, "
          f"torch {info['torch']}")
    print(f"machine: load average {info['load_before']:.2f} before the run"
          + (f", {args.busy} spinning processes meanwhile" if args.busy else " (idle)"))
    report = {"machine": info, "quick": args.quick, "workloads": []}
    for w in workloads.all_workloads(args.quick, args.device):
        if args.only and w.name not in args.only:
            continue
        print(f"\n{w.name}: {w.description}")
        results = measure(w, quick=args.quick, isolate=not args.in_process, device=args.device)
        pairs = ratios(results)
        for a, b, r in pairs:
            print(f"  ratio {a} / {b}: {r:.3f}")
        report["workloads"].append({
            "name": w.name, "description": w.description, "unit": w.unit, "display": w.display,
            "results": [{"contender": r.contender, "seconds": r.seconds, "samples": r.samples,
                         "missing": r.missing} for r in results],
            "ratios": [{"ours": a, "other": b, "ratio": r} for a, b, r in pairs]})
    if args.device == "cpu" and (not args.only or "peak_memory" in args.only):
        print("\npeak_memory: peak RSS of a process fitting the seed model for one epoch")
        report["peak_memory"] = peak_memory(args.quick)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{'quick' if args.quick else 'full'}-{args.device}.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"\nwrote {path}")
    markdown = args.markdown or (None if args.quick else str(ROOT / "docs" / "benchmarks.md"))
    if markdown:
        write_markdown(report, pathlib.Path(markdown))
        print(f"wrote {markdown}")
    return 0


def write_markdown(report, path):
    m = report["machine"]
    state = " busy" if m.get("busy_processes") else ""
    lines = [f"## {m['device'].upper()}{state}: {m['cpu']} ({m['cpu_count']} cores), GPU: {m['gpu']}",
             "", f"{m['date']}; tapeflow {m['tapeflow']}, TensorFlow {m['tensorflow']}, "
             f"PyTorch {m['torch']}, Python {m['python']}; medians, contenders alternated, "
             + ("all in one process" if m.get("in_process") else "each in its own process")
             + "; machine " + (f"busy ({m['busy_processes']} spinning processes)"
                               if m.get("busy_processes") else
                               f"idle (load average {m.get('load_before', 0):.2f} before)")
             + ". TensorFlow runs with its defaults (oneDNN kernels on).", "",
             "| workload | contender | time | ratio tapeflow / other |", "|---|---|---|---|"]
    for w in report["workloads"]:
        first = True
        for r in w["results"]:
            time = "missing: " + r["missing"] if r["missing"] else \
                f"{format_time(r['seconds'], w['display'])} / {w['unit']}"
            rs = "; ".join(f"{x['ours']} / {x['other']}: **{x['ratio']:.2f}**" for x in w["ratios"]
                           if x["other"] == r["contender"])
            lines.append(f"| {w['name'] if first else ''} | {r['contender']} | {time} | {rs} |")
            first = False
    for r in report.get("peak_memory", []):
        value = f"{r['peak_mb']:.0f} MB" if "peak_mb" in r else "missing: " + r["missing"]
        lines.append(f"| peak_memory (fit epoch) | {r['contender']} | {value} | |")
    section = "\n".join(lines) + "\n"
    header = ("# Benchmarks\n\nProduced by `python -m bench` (CPU) and `python -m bench --device "
              "cuda` (GPU); `--busy 1` measures with one core kept busy. Each table replaces the "
              "previous one for its device and machine state.\n\n")
    old = path.read_text() if path.exists() else header
    marker = f"## {m['device'].upper()}{state}:"
    kept = [part for part in old.split("\n## ")[1:] if not ("## " + part).startswith(marker)]
    text = header + "".join("## " + part.rstrip("\n") + "\n\n" for part in kept) + section
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
