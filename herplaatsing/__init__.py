"""The runner: the `herplaatsing` command, the service registry, embedded servers, migrations, demo data, test plugin."""
