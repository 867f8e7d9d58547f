"""The benchmark of the specification's targets: in-process, over HTTP against a bare Flask
app, start-up, memory."""
