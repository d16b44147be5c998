/**
 * How long SQS keeps a capture message at most (14 days, its longest retention): the capture
 * queue's default, and the sweep's default wait before it fails a pending capture `expired`. Its
 * own module so the config loader and the sweep can both use it without importing each other.
 */
export const CAPTURE_MESSAGE_RETENTION_MS = 14 * 24 * 3_600_000;
