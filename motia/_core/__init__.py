"""What every layer shares: the JSON policy and the ASGI types. Imports nothing of motia."""
