"""convviz from Python: ``convviz.client`` talks to a running convviz server."""
