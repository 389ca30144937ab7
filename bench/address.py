"""Where every bench server listens: loopback only."""

HOST = "127.0.0.1"
