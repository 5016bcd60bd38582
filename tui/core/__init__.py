"""The pure core: flag catalog, config, command builders, importer, validation, estimator,
log parser and run state. No Textual, no Rich, no I/O beyond what callers pass in."""
