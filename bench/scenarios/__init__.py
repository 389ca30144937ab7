"""One module per scenario; each ``run(config)`` returns result sections for the report."""
