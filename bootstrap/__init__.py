"""The bootstrap program: what the platform's workflows assume exists in an AWS account, applied once per account."""
