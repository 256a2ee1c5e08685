"""The captured plan held against AWS's published rules: each AWS resource converted to its CloudFormation equivalent
(`mapping`) and the template validated with cfn-lint for the stack's region, with the project's own rules (`check`,
`rules/`)."""
