"""Rasa custom actions for Yinling (rasa_sdk, Python 3.11).

Actions are thin: they read the turn (`context.Turn`), call the services layer
and say the result with the wording in `replies`. Start with
`python -m actions.server` (see `actions/server.py`).
"""
