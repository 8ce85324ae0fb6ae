"""moescope: see, measure and export the modular structure of Mixture-of-Experts models.

The Python face of moescope's C++ engine (the same libraries as ``moescope-cli``): route text
through a Hugging Face MoE checkpoint and get every router decision as numpy arrays, trace a
labelled corpus into a workspace, read it back as pandas tables, and run the CLI's analyses.
See docs/PYTHON.md.
"""

from . import _blas

_blas.match_blas_kernels_to_cpu()  # before the extension module loads OpenBLAS

from . import _moescope  # noqa: E402
from ._moescope import Error, __version__  # noqa: E402
from .model import Encoding, Model, Routing  # noqa: E402
from .subsets import Subset, export_emo, export_pruned  # noqa: E402
from .workspace import Workspace, trace  # noqa: E402

_blas.check_blas_kernels(_moescope)

__all__ = [
    "Error",
    "Encoding",
    "Model",
    "Routing",
    "Subset",
    "Workspace",
    "export_emo",
    "export_pruned",
    "trace",
    "__version__",
]
