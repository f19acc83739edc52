"""``supportcli config show``: where things are and which settings are in force (no secrets)."""

from __future__ import annotations

import typer

from supportcli.cli.context import AppContext
from supportcli.cli.output_options import JsonOption

app = typer.Typer(help="Show the settings in force.", no_args_is_help=True)


@app.command("show")
def show(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show the store, config file, acting user and SMTP server in force; passwords are never shown.

    Example: supportcli config show
    """
    from supportcli.notify.settings import smtp_settings

    obj: AppContext = ctx.obj
    smtp = smtp_settings(obj.config, obj.env)
    settings = {
        "store": obj.location.display,
        "config_file": str(obj.environment.config_dir / "config.toml"),
        "user": obj.actor,
        "default_owner": obj.config.get("default_owner"),
        "smtp": smtp.describe() if smtp else None,
        "now": obj.env.get("SUPPORTCLI_NOW") or None,
    }
    if json_output:
        obj.output.json(settings)
        return
    for key, value in settings.items():
        obj.output.line(f"{key}: {value if value is not None else '(not set)'}")
