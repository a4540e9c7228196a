"""``python -m benchmarks``: the benchmark suite (see benchmarks/run.py).

run.main() sets OPENBLAS/OMP/MKL_NUM_THREADS from --threads before it imports
NumPy, so keep this file free of NumPy imports.
"""

import sys

from benchmarks.run import main

if __name__ == "__main__":
    sys.exit(main())
