"""Rasa custom actions for Yinling (rasa_sdk, Python 3.11).

Actions are thin: they read the turn (`context.Turn`), call the services layer
and say the result with the wording in `replies`. Start with
`python -m rasa_sdk --actions actions --port 5055`.
"""
