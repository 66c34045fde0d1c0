"""Names shared by every part of the system: Redis keys, job states, table names."""

# Redis: a stream in the robust design, a list in the naive baseline (runbook name for both).
QUEUE_KEY = "image_queue"
CONSUMER_GROUP = "image-workers"
# Redis: key the naive baseline's list lives at when the stream is not in use.
NAIVE_QUEUE_KEY = QUEUE_KEY

# Postgres: the reconciler's advisory lock id (any constant; one leader at a time).
RECONCILER_LOCK_ID = 7_316_001

# Job states, upper case as the runbook's SQL expects.
PENDING = "PENDING"
PROCESSING = "PROCESSING"
RETRY = "RETRY"
DONE = "DONE"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
STATES = (PENDING, PROCESSING, RETRY, DONE, FAILED, CANCELLED)
# States from which a job still has work ahead of it.
ACTIVE_STATES = (PENDING, PROCESSING, RETRY)

# Image processing: the deterministic transform the checker can reproduce.
THUMBNAIL_SIZE = (128, 128)
RESULT_FORMAT = "PNG"
IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP")
# Default per-job bound on the bytes a decoded image may hold (MAX_DECODED_BYTES).
MAX_DECODED_BYTES = 64 * 1024 * 1024

# Limits on request fields.
MAX_KEY_LENGTH = 200
# Limit on a request body, checked before it is parsed (a submission is one short URL).
MAX_BODY_BYTES = 64 * 1024
