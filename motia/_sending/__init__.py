"""How every live connection sends: one bounded ``Sender`` and the event stream built on it.

Below both transports (``_http`` and ``_realtime``) and the console, so that each
of them sends through the same queue, flush and slow-client policy.
"""
