#!/usr/bin/env python3
"""PyTorch reference for `npm run bench`: the same GPT as server/src/model/gpt.ts, timed on CPU.

Same architecture (token embedding, pre-norm blocks, RoPE in the GPT-NeoX "rotate half" layout,
separate q/k/v/o projections without bias, tanh-GELU MLP with biases, final LayerNorm, untied
head without bias), same AdamW (betas 0.9/0.95, eps 1e-8, decay 0.01 on matrices only),
global-norm clipping at 1, same batch and length. Sampling is batched with a KV cache like
server/src/model/sampling.ts: one prefill, then one token per step, temperature-1 sampling.

The parent process runs one worker per thread count (OMP/MKL threads = n, OPENBLAS threads = 1,
because two pools fighting over 2 cores is slower; platform-notes.md section 1) and keeps the
faster figure of each measure. The last line of stdout is one JSON object.

Run: python3 bench/torch/reference.py [--preset small] [--threads 1,2] [--config '{...}']
Needs Debian's torch: sudo apt-get install -y python3-torch
"""

import argparse
import json
import os
import subprocess
import sys
import time

# Mirrors PRESETS in server/src/model/config.ts; the TS runner passes --config so they cannot drift.
PRESETS = {
    "tiny": {"dModel": 32, "nLayers": 1, "nHeads": 2, "dFF": 64, "contextLength": 96, "ropeBase": 10000},
    "small": {"dModel": 128, "nLayers": 2, "nHeads": 4, "dFF": 512, "contextLength": 96, "ropeBase": 10000},
    "base": {"dModel": 256, "nLayers": 4, "nHeads": 8, "dFF": 1024, "contextLength": 128, "ropeBase": 10000},
}
# Tokenizer.vocabSize: 256 bytes + the special tokens.
DEFAULT_VOCAB = 265


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="small", choices=sorted(PRESETS))
    p.add_argument("--config", help="JSON model config (overrides --preset), as ModelConfig in config.ts")
    p.add_argument("--vocab", type=int, default=DEFAULT_VOCAB)
    p.add_argument("--batch", type=int, default=16, help="training batch B")
    p.add_argument("--seq", type=int, default=0, help="training length T (0 = the context length)")
    p.add_argument("--train-steps", type=int, default=20, help="timed training steps (after warm-up)")
    p.add_argument("--sample-batch", type=int, default=16)
    p.add_argument("--prompt-len", type=int, default=16)
    p.add_argument("--new-tokens", type=int, default=64)
    p.add_argument("--sample-reps", type=int, default=3, help="timed generate() calls (after warm-up)")
    p.add_argument("--max-seconds", type=float, default=15, help="time cap per measure and thread count")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts to try")
    p.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def model_config(args):
    cfg = dict(json.loads(args.config)) if args.config else dict(PRESETS[args.preset])
    cfg.setdefault("vocabSize", args.vocab)
    return cfg


def run_parent(args):
    try:
        import torch  # noqa: F401  (only to fail early with the install hint)
    except ImportError:
        print(json.dumps({"error": "torch is not installed: sudo apt-get install -y python3-torch"}))
        return 3
    runs = []
    for n in [int(x) for x in args.threads.split(",") if x.strip()]:
        env = dict(os.environ, OMP_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS="1")
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", str(n)] + sys.argv[1:]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            sys.stderr.write(out.stderr)
            return out.returncode
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(
            f"torch {n} thread(s): train {runs[-1]['train_tokens_per_second']:.0f} tok/s, "
            f"sample {runs[-1]['sample_tokens_per_second']:.0f} tok/s",
            file=sys.stderr,
        )
    if max(r["sgemm_gflops"] for r in runs) < 10:
        print(
            "warning: torch's matmul runs at under 10 GFLOP/s: libblas.so.3 is probably the reference BLAS; "
            "sudo apt-get install -y libopenblas0-pthread",
            file=sys.stderr,
        )
    best_train = max(runs, key=lambda r: r["train_tokens_per_second"])
    best_sample = max(runs, key=lambda r: r["sample_tokens_per_second"])
    print(
        json.dumps(
            {
                "torch_version": best_train["torch_version"],
                "parameters": best_train["parameters"],
                "config": best_train["config"],
                "train_batch": best_train["train_batch"],
                "train_seq": best_train["train_seq"],
                "train_tokens_per_second": best_train["train_tokens_per_second"],
                "train_step_ms": best_train["train_step_ms"],
                "train_threads": best_train["threads"],
                "sample_tokens_per_second": best_sample["sample_tokens_per_second"],
                "sample_ms": best_sample["sample_ms"],
                "sample_threads": best_sample["threads"],
                "sgemm_gflops": max(r["sgemm_gflops"] for r in runs),
                # CPU seconds are less disturbed by other processes on a shared machine.
                "train_tokens_per_cpu_second": max(r["train_tokens_per_cpu_second"] for r in runs),
                "sample_tokens_per_cpu_second": max(r["sample_tokens_per_cpu_second"] for r in runs),
                "runs": runs,
            }
        )
    )
    return 0


def run_worker(args):
    import torch

    torch.set_num_threads(args.worker)
    torch.set_num_interop_threads(1)
    from gpt_reference import GPT, adamw_for, generate, train_step

    cfg = model_config(args)
    torch.manual_seed(0)
    gflops = sgemm_gflops(torch)
    model = GPT(cfg)
    opt = adamw_for(model, lr=1e-3)
    B = args.batch
    T = args.seq or cfg["contextLength"]
    V = cfg["vocabSize"]

    def batch():
        window = torch.randint(0, V, (B, T + 1))
        return window[:, :-1], window[:, 1:]

    for _ in range(3):  # warm-up: allocator, thread pools
        train_step(model, opt, *batch())
    times, cpu = timed_runs(lambda: train_step(model, opt, *batch()), args.train_steps, args.max_seconds)
    step_s = median(times)

    prompts = torch.randint(0, V, (args.sample_batch, args.prompt_len))
    generate(model, prompts, args.new_tokens)  # warm-up
    sample_times, sample_cpu = timed_runs(
        lambda: generate(model, prompts, args.new_tokens), args.sample_reps, args.max_seconds
    )
    sample_s = median(sample_times)
    new_tokens = args.sample_batch * args.new_tokens

    print(
        json.dumps(
            {
                "threads": args.worker,
                "sgemm_gflops": round(gflops, 1),
                "torch_version": torch.__version__,
                "parameters": sum(p.numel() for p in model.parameters()),
                "config": cfg,
                "train_batch": B,
                "train_seq": T,
                "train_step_ms": round(step_s * 1000, 2),
                "train_tokens_per_second": round(B * T / step_s, 1),
                "train_tokens_per_cpu_second": round(B * T / median(cpu), 1),
                "sample_ms": round(sample_s * 1000, 2),
                "sample_tokens_per_second": round(new_tokens / sample_s, 1),
                "sample_tokens_per_cpu_second": round(new_tokens / median(sample_cpu), 1),
                "train_steps_timed": len(times),
                "sample_runs_timed": len(sample_times),
            }
        )
    )
    return 0


def sgemm_gflops(torch):
    """A quick matmul rate: Debian's torch uses whatever libblas.so.3 points at, and the
    reference BLAS (the default without libopenblas0) is ~50x slower than OpenBLAS."""
    a, b = torch.randn(256, 256), torch.randn(256, 256)
    a @ b
    t0 = time.perf_counter()
    for _ in range(10):
        a @ b
    return 10 * 2 * 256**3 / (time.perf_counter() - t0) / 1e9


def timed_runs(fn, count, max_seconds):
    """Wall and CPU seconds of each call: `count` calls, fewer when they pass `max_seconds` (at least 3)."""
    walls, cpus = [], []
    start = time.perf_counter()
    while len(walls) < count and (len(walls) < 3 or time.perf_counter() - start < max_seconds):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return walls, cpus


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    a = parse_args(sys.argv[1:])
    if a.worker:
        # argparse saw the parent's flags again; --worker marks the child.
        sys.exit(run_worker(a))
    sys.exit(run_parent(a))
