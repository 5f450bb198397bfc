"""``python -m mldsl`` runs the command-line interface."""
from mldsl.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
