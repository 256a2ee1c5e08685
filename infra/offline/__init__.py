"""The offline toolchain: the program run under Pulumi's mock runtime, and the commands built on it.

The engine captures what the program declares; preview, the policy report over gRPC, the manifest renderer and the
benchmark read that capture. The program itself never imports this package.
"""
