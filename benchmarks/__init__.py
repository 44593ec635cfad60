"""flowlight's benchmarks: the same flows on flowlight and on Prefect 1.4.1, and the bridge against
the OpenTelemetry SDK's own floor.

`python -m benchmarks` (or `make bench`) runs everything and writes
`benchmarks/results/latest.json`; `python -m benchmarks --quick` is the smoke run. Every
measurement runs in a fresh subprocess, so peak memory (`ru_maxrss`) belongs to one run and no
run warms the next.

This package imports nothing at import time: `benchmarks.workload` also runs inside the separate
Prefect 1 virtual environment, where flowlight is not installed.
"""
