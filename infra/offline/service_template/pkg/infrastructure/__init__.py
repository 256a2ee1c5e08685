"""The infrastructure: the environment, logging and HTTP clients. It implements the domain's ports."""
