"""The application: use cases that combine domain rules and ports. It imports only the domain."""
