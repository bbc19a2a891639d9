"""One service per MiniCRM API area, reached as attributes of the client."""
