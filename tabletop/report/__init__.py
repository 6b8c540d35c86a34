"""The after-action report: data from the event log, SVG charts, HTML and PDF rendering, the build job.

- `data/`: `build_report`, pure (no Flask, no database, no clock): one typed pass over the log
  (`data/log.py`) and small section functions (`data/sections/`).
- `charts.py`, `render.py`: SVG, HTML and the PDF (WeasyPrint, imported by the worker only).
- `build.py`: store -> data -> files, what one build runs.
- `job.py`, `worker.py`, `progress.py`: `ReportJob`, the one supervisor of builds (warm fork or cold
  start) with its limits and its `Progress` callback; the worker process it drives.
- `export.py`: the log as JSON and CSV.
"""
