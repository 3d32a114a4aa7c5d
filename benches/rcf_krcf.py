#!/usr/bin/env python3
"""AWS's Random Cut Forest (the `krcf` package: the Rust RCF of aws/random-cut-forest-by-aws
behind Python bindings) on the points given, for `cargo bench --bench detect` to compare with.

Reads one value per line from the file named by argv[1]; scores each point then learns it
(50 trees, 100 samples per tree, shingle 1, as the RCF metric scorer uses; random seed argv[3],
2 when not given); writes the scores, one per line, to argv[2]; prints `{"points": N, "seconds": S}` on stdout. Only the
score + update loop is timed: reading and writing the files are not.
"""
import json
import sys
import time

import krcf


def main():
    src, dst = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    with open(src) as f:
        values = [float(line) for line in f if line.strip()]
    forest = krcf.RandomCutForest({
        "dimensions": 1,
        "shingle_size": 1,
        "num_trees": 50,
        "sample_size": 100,
        "output_after": 1,
        "random_seed": seed,
        # one thread, as watchband's forest runs
        "parallel_execution_enabled": False,
    })
    scores = []
    start = time.perf_counter()
    for v in values:
        p = [v]
        scores.append(forest.score(p))
        forest.update(p)
    seconds = time.perf_counter() - start
    with open(dst, "w") as f:
        f.write("\n".join(repr(s) for s in scores))
        f.write("\n")
    print(json.dumps({"points": len(values), "seconds": seconds}))


if __name__ == "__main__":
    main()
