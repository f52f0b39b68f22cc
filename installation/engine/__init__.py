"""The pyo engine: server, sources, analysis graph, block tap and publisher (pyo only)."""
