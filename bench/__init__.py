"""Benchmarks of the motia runtime side by side with the ASGI peers a Python user would pick.

Run ``python -m bench`` (see ``bench/README.md``); results land in ``bench/results/``.
"""
