"""What every layer shares: ids, shared words, the one var/ path, the service key, the error root.

Imports nothing of ours, and runs in both Python environments (3.10 for Rasa, 3.11 for the app)."""
