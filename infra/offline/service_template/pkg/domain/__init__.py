"""The domain: the service's rules and the ports it needs, in plain Python. It imports no other layer."""
