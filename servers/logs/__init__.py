"""askpanda-logs: Failure reports for PanDA jobs from BigPanDA or from local logs."""
