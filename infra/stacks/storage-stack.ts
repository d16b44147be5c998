import { Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { ArchiveBucket, type ArchiveBucketProps } from "../constructs/archive-bucket.ts";
import { ArchiveTable, type ArchiveTableProps } from "../constructs/archive-table.ts";
import { CaptureQueue, type CaptureQueueProps } from "../constructs/capture-queue.ts";

/** The stateful resources the service stack is wired to. */
export interface ArchiveStorage {
  readonly bucket: ArchiveBucket;
  readonly table: ArchiveTable;
  readonly queue: CaptureQueue;
}

/** Props of {@link PalimpsestStorageStack}. */
export interface PalimpsestStorageStackProps extends StackProps {
  /** @default - {@link ArchiveBucket}'s defaults */
  readonly bucket?: ArchiveBucketProps;
  /** @default - {@link ArchiveTable}'s defaults */
  readonly table?: ArchiveTableProps;
  /** @default - {@link CaptureQueue}'s defaults (sized for the capture function's default timeout) */
  readonly queue?: CaptureQueueProps;
}

/**
 * The stateful half of Palimpsest: the archive bucket, the table and the capture queue. It changes
 * rarely, is termination-protected by default, and its data resources are retained, so the
 * stateless service stack can be replaced or destroyed freely.
 */
export class PalimpsestStorageStack extends Stack implements ArchiveStorage {
  public readonly bucket: ArchiveBucket;
  public readonly table: ArchiveTable;
  public readonly queue: CaptureQueue;

  constructor(scope: Construct, id: string, props: PalimpsestStorageStackProps = {}) {
    super(scope, id, {
      description: "Palimpsest storage: archive bucket, table, capture queue",
      ...props,
      terminationProtection: props.terminationProtection ?? true,
    });
    this.bucket = new ArchiveBucket(this, "ArchiveBucket", props.bucket);
    this.table = new ArchiveTable(this, "ArchiveTable", props.table);
    this.queue = new CaptureQueue(this, "CaptureQueue", props.queue);
  }
}
