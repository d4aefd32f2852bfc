"""One module per measured part; each exposes run(ctx, results) -> list of Figures."""
