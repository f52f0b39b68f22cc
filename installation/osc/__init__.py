"""OSC: the namespace (defined once), frame codec, and UDP transport."""
