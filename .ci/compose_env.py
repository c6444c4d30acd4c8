#!/usr/bin/env python3
"""Reads `docker-compose config` (the rendered compose file) on stdin and
prints the api service's environment, one KEY=VALUE per line, exactly as
Docker would hand it to the container: CI starts the release binary with it
(issue 17), so a compose file whose environment the binary refuses fails CI
instead of crash-looping on a clinic's server."""

import sys

import yaml

service = sys.argv[1] if len(sys.argv) > 1 else "api"
rendered = yaml.safe_load(sys.stdin)
environment = rendered["services"][service].get("environment") or {}
if isinstance(environment, list):  # the `- KEY=VALUE` form
    environment = dict(item.split("=", 1) for item in environment)
for key, value in environment.items():
    value = "" if value is None else str(value)
    if "\n" in value:
        sys.exit(f"{key} spans lines; cannot pass it as one KEY=VALUE")
    print(f"{key}={value}")
