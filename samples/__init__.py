"""The sample batch generator and the committed demo batch."""
