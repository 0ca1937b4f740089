"""The server's render line and what every session shares: the line, the result store, the model and
examples shelves, which model to show first, and a page's one way through the line to its pictures."""
