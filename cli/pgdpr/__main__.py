from pgdpr.main import cli

cli()
