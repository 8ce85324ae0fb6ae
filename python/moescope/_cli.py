"""moescope-cli commands run in this process (moescope._moescope.run_command), read as JSON."""

import json
import os

from . import _moescope


def options(**kwargs):
    """Keyword arguments as CLI options: pool_mass=0.8 -> --pool-mass 0.8, json=True -> --json.

    None and False are left out; lists are joined with commas (budgets=[2, 4] -> --budgets 2,4).
    """
    argv = []
    for name, value in kwargs.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple)):
            argv += [flag, ",".join(str(v) for v in value)]
        elif isinstance(value, os.PathLike):
            argv += [flag, os.fspath(value)]
        else:
            argv += [flag, str(value)]
    return argv


def run_json(command, argv):
    """Runs `moescope-cli COMMAND ARGV --json` in process and returns its parsed output.

    Errors are raised as moescope.Error with the CLI's message.
    """
    code, out = _moescope.run_command(command, [str(a) for a in argv] + ["--json"])
    if code == 130:
        raise KeyboardInterrupt(f"moescope-cli {command} was interrupted")
    if code != 0:
        raise _moescope.Error(f"moescope-cli {command} ended with exit code {code}")
    return json.loads(out)
