"""One run end to end: the engine (runner) that validates, plans, sends and writes its
outputs, its journal and resume, the lock, settings resolution (config), export and the
nightly batch. Imports the core, the client and the sheets; never the CLI.
"""
