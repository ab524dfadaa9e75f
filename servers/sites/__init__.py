"""askpanda-sites: CRIC PanDA queue data: find, filter and compare queues and sites."""
