"""OpenBLAS's kernels matched to the CPU, as moescope-cli does it (engine/cpu/blas_core.h).

Debian's OpenBLAS picks its kernels by the CPU's model number when it loads; on virtual machines
that hide the model it falls back to generic SSE3 ("Prescott") kernels: several times slower, and
FP32 results that differ from moescope-cli's, which restarts itself with OPENBLAS_CORETYPE set from
the CPU's features. Python cannot restart, so the package asks first: a short child process loads
the extension module and reports the kernels OpenBLAS chose and the ones the CPU's features allow;
when OpenBLAS fell back, OPENBLAS_CORETYPE is set here, before this process loads OpenBLAS. The
decision is the C++ code's own, so the package and the CLI always compute with the same kernels.
"""

import importlib.util
import os
import subprocess
import sys
import warnings

_PROBE = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('_moescope', sys.argv[1])\n"
    "m = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(m)\n"
    "print(m.blas_core_name(), m.blas_core_for_cpu_features())\n"
)


def match_blas_kernels_to_cpu():
    if "OPENBLAS_CORETYPE" in os.environ or not sys.platform.startswith("linux"):
        return  # the user's choice
    spec = importlib.util.find_spec("moescope._moescope")
    if spec is None or spec.origin is None:
        return
    try:
        out = subprocess.run([sys.executable, "-c", _PROBE, spec.origin], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return
    words = out.stdout.split()
    if out.returncode != 0 or len(words) != 2:
        return  # no OpenBLAS in this build, or a CPU too old for any named kernel family
    chosen, allowed = words
    if chosen == "Prescott" and allowed:
        os.environ["OPENBLAS_CORETYPE"] = allowed


def check_blas_kernels(module):
    """Warns when this process's OpenBLAS was loaded before the package could choose its kernels."""
    wanted = os.environ.get("OPENBLAS_CORETYPE")
    if wanted and module.blas_core_name() not in ("", wanted) and module.blas_core_name() == "Prescott":
        warnings.warn(
            "OpenBLAS was loaded (by another package) before moescope and runs its generic kernels: "
            "routing is slower and its last bits may differ from moescope-cli's. Import moescope first, "
            f"or set OPENBLAS_CORETYPE={wanted} before starting Python.",
            RuntimeWarning,
            stacklevel=3,
        )
