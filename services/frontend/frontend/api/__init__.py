"""The HTTP interface. It calls the application only; it is handed the token and port by the composition root."""
