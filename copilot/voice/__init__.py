"""Live voice: audio in, speech to text, utterances out (issue 18)."""
