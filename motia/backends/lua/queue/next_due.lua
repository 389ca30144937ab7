-- ARGV: sub. The earliest due time or lease expiry, as a string; false when idle.
return next_due(ARGV[5])
