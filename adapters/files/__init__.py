"""Files in and out: the recording format, the recorder, kcat dumps, and replaying either with its timing."""
