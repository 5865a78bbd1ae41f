"""Load tests of a deployed API (issue 17): the spec, the samples, the generator that runs in a
worker process, the run that ties it to a backend, and the store of saved runs. No Textual here:
the CLI (`cortex-tui bench`) and the TUI both use this package."""
