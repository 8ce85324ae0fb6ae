"""`python3 -m pip wheel .` gives a wheel that installs into a fresh virtual environment and runs."""

import subprocess
import sys
import venv

from conftest import ROOT, SAMPLES


def test_wheel_installs_into_a_fresh_venv(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-build-isolation", "--no-deps", str(ROOT), "-w", str(wheels)],
                   check=True)
    (wheel,) = wheels.glob("moescope-*.whl")
    env = tmp_path / "fresh"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True)
    code = ("import moescope, numpy; r = moescope.Model(%r).route('Die Experten'); "
            "assert r.topk_ids.dtype == numpy.int32 and r.topk_ids.ndim == 3; print(moescope.__version__)") % str(SAMPLES / "emo-sample")
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path)
    version = next(l for l in (ROOT / "CMakeLists.txt").read_text().splitlines() if l.startswith("project(moescope VERSION"))
    assert out.stdout.strip() == version.split()[2]
