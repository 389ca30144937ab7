"""What every layer shares: the JSON policy, the ASGI types, trace ids. Imports nothing of motia."""
