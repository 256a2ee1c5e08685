"""The project's own cfn-lint rules, loaded with `--append-rules` (append_rules): checks AWS enforces where
cfn-lint's stock rules stop. Each rule takes its facts from cfn-lint's bundled data, never from a list kept here."""
