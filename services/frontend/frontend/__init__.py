"""frontend: a catalogued service of the platform, in four layers.

`api` (HTTP) -> `application` (use cases) -> `domain` (rules, ports) <- `infrastructure` (environment, logging,
HTTP clients). The domain imports nothing of the others; `.importlinter` holds the contract and the tests enforce it.
`__main__` is the composition root: it alone knows every layer.
"""
