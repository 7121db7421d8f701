"""``python -m service.cli``: the provkit CLI."""

from service.cli.main import main

main()
