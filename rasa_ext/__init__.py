"""What runs inside the Rasa server process (Python 3.10, `.venv-rasa`) besides Rasa.

The start-up wrapper that applies our
performance fixes to the pinned Rasa version before serving.
"""
