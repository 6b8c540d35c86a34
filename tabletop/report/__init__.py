"""The after-action report: data from the event log, SVG charts, HTML and PDF rendering.

`data.build_report` is pure (no Flask, no database); `render` turns its result into HTML and a
PDF; `worker` runs a build in its own process with time and memory limits.
"""
