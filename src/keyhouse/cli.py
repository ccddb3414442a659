"""The `keyhouse` command line: one root Typer app that registers every command group.

Each group lives beside the domain it works on, in that domain's `commands.py`, and is
registered here and only here; what the commands share is in `keyhouse.kit.command_line`.
"""

import typer

from keyhouse import serving
from keyhouse.accounts import commands as account_commands
from keyhouse.api_keys import commands as key_commands
from keyhouse.audit.commands import audit_app
from keyhouse.connections import commands as connection_commands
from keyhouse.csv_files import commands as csv_commands
from keyhouse.leaks import commands as leak_commands
from keyhouse.users import commands as user_commands

app = typer.Typer(
    help="Keyhouse: API keys, REST API and MCP connections for a RevOps workspace.",
    no_args_is_help=True,
)
app.command("serve")(serving.serve)
app.command("demo")(serving.demo)
app.add_typer(serving.db_app, name="db")
app.add_typer(account_commands.app, name="account")
app.add_typer(user_commands.app, name="user")
app.add_typer(key_commands.app, name="key")
app.add_typer(connection_commands.app, name="connection")
app.add_typer(csv_commands.import_app, name="import")
app.add_typer(csv_commands.export_app, name="export")
app.command("scan")(leak_commands.scan)
app.add_typer(audit_app, name="audit")
