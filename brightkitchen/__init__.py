"""BrightKitchen: the `brightkitchen` command, the demo, and the local services it starts."""
