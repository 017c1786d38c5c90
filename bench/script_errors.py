"""One-line errors for the Python bench scripts: a missing file, a bad input or a failed ppgkd
command stops the script with one line naming it and exit status 1, never a traceback."""
import sys


def check_run(run, what):
    """Raises ValueError naming `what` and ppgkd's last error line unless the run succeeded."""
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no message"])[-1]
        raise ValueError(f"{what} failed (exit {run.returncode}): {last}")


def run_main(name, main):
    """Runs main(); OSError and ValueError become one line prefixed by the script's name."""
    try:
        main()
    except OSError as e:  # a missing or unreadable file or directory, or no ppgkd binary
        sys.exit(f"{name}: {e.filename}: {e.strerror}")
    except ValueError as e:
        sys.exit(f"{name}: {e}")
