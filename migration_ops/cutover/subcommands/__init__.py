"""One module per cutover subcommand, each a `Subcommand` (../subcommand.py); command.py lists them."""
