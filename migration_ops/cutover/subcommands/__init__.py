"""One module per cutover subcommand, each with its `COMMAND` (see ../subcommand.py); command.py lists them."""
