"""Allow ``python -m supportcli``."""

from supportcli.cli.app import main

if __name__ == "__main__":
    raise SystemExit(main())
