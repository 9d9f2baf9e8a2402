"""The Rasa assistant: content loading, language identification, NLU components."""
