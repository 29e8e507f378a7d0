"""Voice: audio in, Vosk recognition, the text assistant, pyttsx3 speech out."""
