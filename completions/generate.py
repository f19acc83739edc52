"""Write the bash, zsh and fish completion scripts for supportcli into this folder.

Run: python completions/generate.py  (a test checks the checked-in files are current)

The scripts call back into ``supportcli`` for the candidates, so they only
change when Typer's completion protocol does.
"""

from __future__ import annotations

from pathlib import Path

SHELLS = ("bash", "zsh", "fish")
HERE = Path(__file__).resolve().parent


def completion_script(shell: str) -> str:
    """The completion script Typer generates for one shell."""
    from typer._completion_shared import get_completion_script

    return (
        get_completion_script(prog_name="supportcli", complete_var="_SUPPORTCLI_COMPLETE", shell=shell).rstrip() + "\n"
    )


def main() -> None:
    for shell in SHELLS:
        (HERE / f"supportcli.{shell}").write_text(completion_script(shell), encoding="utf-8")


if __name__ == "__main__":
    main()
