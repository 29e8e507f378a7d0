"""The assistant: one turn for every channel, with its safety nets, and what it needs around Rasa."""
