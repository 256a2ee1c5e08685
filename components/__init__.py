"""ComponentResources of the platform, one concern each. They take typed args and never read Pulumi config."""
