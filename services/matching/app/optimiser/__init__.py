"""The optimiser: a pure module (no database, no I/O) shared by the service, the tests and the benchmark."""
