"""What runs inside the Rasa server process (Python 3.10, `.venv-rasa`) besides Rasa itself.

`serve` starts Rasa's own CLI after `patches` has applied our performance fixes
to the pinned Rasa version and jieba has loaded its dictionary. The custom NLU
components live in `bot/components/`, where Rasa looks for them.
"""
