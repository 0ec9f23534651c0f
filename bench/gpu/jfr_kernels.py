#!/usr/bin/env python3
"""Sums the native samples of a bench/gpu/profile_lm.sh recording by what the thread was in: a
kernel's launch (by CudaKernels method), a cuBLAS product (by the engine primitive that asked for
it), or else the native frame itself. With CUDA_LAUNCH_BLOCKING=1 a launch returns when its kernel
is done, so the counts weigh the kernels by their device time.

Usage: python3 bench/gpu/jfr_kernels.py OUT/lm.jfr [--from S] [--to S] [--top N]
       (--from/--to: seconds after the first sample, to leave out start-up or the final evaluation;
        needs a JDK's jfr tool: JAVA_HOME/bin/jfr, or jfr on the PATH)
"""
import argparse
import collections
import os
import re
import shutil
import subprocess


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("recording")
    parser.add_argument("--from", dest="start", type=float, default=0.0)
    parser.add_argument("--to", dest="end", type=float, default=float("inf"))
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    java_home = os.environ.get("JAVA_HOME", "")
    jfr = os.path.join(java_home, "bin", "jfr") if java_home else shutil.which("jfr")
    text = subprocess.run([jfr, "print", "--events", "jdk.NativeMethodSample", "--stack-depth", "40",
                           args.recording], check=True, capture_output=True, text=True).stdout
    samples = []
    for event in text.split("jdk.NativeMethodSample")[1:]:
        clock = re.search(r"startTime = (\d+):(\d+):(\d+)\.(\d+)", event)
        if clock is None:
            continue
        seconds = int(clock[1]) * 3600 + int(clock[2]) * 60 + int(clock[3]) + float("0." + clock[4])
        samples.append((seconds, re.findall(r"^\s+([\w.$<>]+)\(", event, re.M)))
    if not samples:
        print("no native samples")
        return
    first = min(seconds for seconds, _ in samples)
    counts = collections.Counter()
    for seconds, frames in samples:
        if not args.start <= seconds - first < args.end:
            continue
        counts[classify(frames)] += 1
    total = sum(counts.values())
    print(f"{total} native samples between {args.start} and {args.end} s")
    for key, count in counts.most_common(args.top):
        print(f"{count:7d} {100.0 * count / total:5.1f} %  {key}")


def classify(frames):
    for at, frame in enumerate(frames):
        if frame.startswith("org.adjoint.cuda.internal.CudaKernels.") and not frame.endswith(".launch"):
            return "kernel " + frame.rsplit(".", 1)[1]
        if frame == "org.adjoint.cuda.internal.ForeignBlas.sgemm":
            callers = [f.rsplit("ops.", 1)[1] for f in frames[at:] if "internal.ops." in f]
            return "cuBLAS for " + (" < ".join(dict.fromkeys(c.split(".")[0] + "." + c.split(".")[1]
                                                             for c in callers[:4])) or "?")
    return "native " + (frames[0] if frames else "?")


if __name__ == "__main__":
    main()
