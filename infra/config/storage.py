"""`platform:storage`: the S3 buckets, read into `components.storage.StorageArgs`.

Rules: at least one bucket besides the access-log bucket, which must be one of the declared buckets; bucket names
short enough for a global S3 name (`<prefix>-<name>-<account id>`, at most 63 characters); per bucket only the known
lifecycle settings, each in range, tiering before expiry; in prod no `forceDestroy` and `protect` on.
"""

from __future__ import annotations

from components.storage import BucketSpec, StorageArgs

from .durability import prod_requires, protect_flag
from .reader import Section

BUCKET_NAME = r"[a-z][a-z0-9-]{0,19}[a-z0-9]|[a-z]"
ACCOUNT_ID_LENGTH = 12
MAX_BUCKET_NAME = 63


def _bucket(s: Section, name: str) -> BucketSpec:
    d = BucketSpec(name)
    expire = s.integer("expireAfterDays", None, minimum=1, maximum=36500)
    tiering = s.integer("intelligentTieringAfterDays", None, minimum=0, maximum=36500)
    if expire is not None and tiering is not None and tiering >= expire:
        s.problem("intelligentTieringAfterDays", f"fewer days than expireAfterDays ({expire})", tiering)
    spec = BucketSpec(
        name=name,
        noncurrent_version_days=s.integer("noncurrentVersionDays", d.noncurrent_version_days, minimum=1, maximum=3650),
        abort_incomplete_upload_days=s.integer("abortIncompleteUploadDays", d.abort_incomplete_upload_days, minimum=1, maximum=30),
        expire_after_days=expire,
        intelligent_tiering_after_days=tiering,
    )
    s.done()
    return spec


def parse_storage(s: Section, *, prod: bool, name_prefix: str) -> StorageArgs:
    d = StorageArgs()
    force_destroy = s.boolean("forceDestroy", d.force_destroy)
    prod_requires(s, "forceDestroy", force_destroy, False, prod=prod, why="a bucket with objects must never be deleted")
    protect = protect_flag(s, prod=prod)
    declared = s.has("buckets")
    sections = s.named_sections("buckets", name_pattern=BUCKET_NAME)
    # No `buckets` at all means the defaults (uploads, static assets, access logs); an empty mapping means none.
    buckets = tuple(_bucket(body, name) for name, body in sections.items()) if declared else d.buckets
    for spec in buckets:
        length = len(name_prefix) + len(spec.name) + ACCOUNT_ID_LENGTH + 2
        if length > MAX_BUCKET_NAME:
            s.problem(f"buckets.{spec.name}", f"a shorter name: '{name_prefix}-{spec.name}-<account id>' has {length} characters, S3 allows {MAX_BUCKET_NAME}", spec.name)
    log_bucket = s.string("accessLogBucket", d.access_log_bucket, pattern=BUCKET_NAME, expected="the name of one of the buckets")
    names = [spec.name for spec in buckets]
    if log_bucket not in names:
        s.problem("accessLogBucket", "one of the declared buckets (" + ", ".join(names) + ")", log_bucket)
    elif len(names) < 2:
        s.problem("buckets", "at least one bucket besides the access-log bucket", "only " + ", ".join(names), quoted=False)
    s.done()
    return StorageArgs(
        name_prefix=name_prefix,
        buckets=buckets,
        access_log_bucket=log_bucket,
        force_destroy=force_destroy,
        protect=protect,
    )
