"""The servers under test: one module per framework, all serving the same routes and bytes."""
