"""The benchmark of issue 5: in-process, over HTTP against a bare Flask app, start-up, memory."""
