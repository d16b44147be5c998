/**
 * Reads a WACZ's zip with yauzl and checks that every byte of the container is accounted for.
 *
 * Hashes in datapackage.json cover the files' contents, not the zip around them: a changed
 * timestamp, file name in a local header, attribute or trailing byte would leave every hash
 * intact. yauzl (like every zip reader) trusts the central directory and skips what it does not
 * need, so this module adds what no well-kept reader does: local headers must repeat the central
 * directory, CRC-32s must match the data, entries must tile the file with no gap from offset 0
 * to the central directory, and the end record must describe exactly that directory. The fields
 * nothing repeats (attributes, "made by", comments) are compared with the values Palimpsest's
 * writer sets (wacz-layout.ts) and reported apart: a difference there is wrong only in its packages.
 */
import { crc32 } from "node:zlib";
import yauzl from "yauzl";
import { ZIP_ENTRY_MODE } from "./wacz-layout.ts";

/** One thing wrong, and where: a file of the package, a WARC record, or the zip itself. */
export interface Problem {
  where: string;
  message: string;
}

export interface ZipContents {
  /** Each entry's bytes by path, in the order the central directory lists them. */
  files: Map<string, Uint8Array>;
  problems: Problem[];
  /** Fields that differ from what Palimpsest's writer puts there: wrong only in its own packages. */
  unlikeWriter: Problem[];
}

const CENTRAL_HEADER = 46;
const END_RECORD = 22;
const DATA_DESCRIPTOR_SIGNATURE = 0x08074b50;
/** What yazl writes in "version made by": UNIX (3), zip spec 6.3 (63). */
const MADE_BY_YAZL = 0x033f;
const FLAG_DATA_DESCRIPTOR = 0x0008;

/** Unzips `bytes`; a zip too broken to list comes back with no files and the reason. */
export async function readZip(bytes: Uint8Array): Promise<ZipContents> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const problems: Problem[] = [];
  const unlikeWriter: Problem[] = [];
  const files = new Map<string, Uint8Array>();
  const zip = (message: string) => problems.push({ where: "zip", message });
  let zipfile: yauzl.ZipFile;
  try {
    zipfile = await yauzl.fromBufferPromise(buffer, { lazyEntries: true, strictFileNames: true });
  } catch (cause) {
    zip(`not a readable zip file: ${(cause as Error).message}`);
    return { files, problems, unlikeWriter };
  }
  const entries: yauzl.Entry[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      zipfile.on("entry", (entry: yauzl.Entry) => {
        entries.push(entry);
        zipfile.readEntry();
      });
      zipfile.on("end", resolve);
      zipfile.on("error", reject);
      zipfile.readEntry();
    });
  } catch (cause) {
    zip(`its central directory cannot be read: ${(cause as Error).message}`);
    return { files, problems, unlikeWriter };
  }

  for (const entry of entries) {
    const where = entry.fileName;
    if (files.has(where)) {
      zip(`${where} is in the zip twice`);
      continue;
    }
    try {
      const data = await readStream(await zipfile.openReadStreamPromise(entry));
      files.set(where, data);
      if (crc32(data) !== entry.crc32) {
        problems.push({ where, message: "its CRC-32 in the zip does not match its bytes" });
      }
    } catch (cause) {
      problems.push({ where, message: `cannot be unzipped: ${(cause as Error).message}` });
    }
  }
  await checkLayout(buffer, zipfile, entries, problems, unlikeWriter);
  zipfile.close();
  return { files, problems, unlikeWriter };
}

/** The byte accounting described at the top of this file. */
async function checkLayout(
  buffer: Buffer,
  zipfile: yauzl.ZipFile,
  entries: readonly yauzl.Entry[],
  problems: Problem[],
  unlikeWriter: Problem[],
): Promise<void> {
  const zip = (message: string) => problems.push({ where: "zip", message });
  const comment = zipfile.comment as unknown as string;
  if (comment !== "")
    unlikeWriter.push({ where: "zip", message: "the archive has a comment, which Palimpsest never writes" });
  const endAt = buffer.length - END_RECORD - Buffer.byteLength(comment, "latin1");
  const isZip64 = endAt >= 20 && buffer.readUInt32LE(endAt - 20) === 0x07064b50;

  let expected = 0;
  const byOffset = [...entries].sort((a, b) => a.relativeOffsetOfLocalHeader - b.relativeOffsetOfLocalHeader);
  for (const entry of byOffset) {
    const where = entry.fileName;
    const entryProblem = (message: string) => problems.push({ where: `zip entry ${where}`, message });
    if (entry.relativeOffsetOfLocalHeader !== expected) {
      entryProblem(
        `starts at byte ${entry.relativeOffsetOfLocalHeader}, but the previous entry ends at ${expected}: bytes in between belong to nothing`,
      );
    }
    let local: yauzl.LocalFileHeader;
    try {
      local = await zipfile.readLocalFileHeaderPromise(entry);
    } catch (cause) {
      entryProblem(`its local header cannot be read: ${(cause as Error).message}`);
      return;
    }
    const same: [string, number, number][] = [
      ["version needed to extract", local.versionNeededToExtract, entry.versionNeededToExtract],
      ["flags", local.generalPurposeBitFlag, entry.generalPurposeBitFlag],
      ["compression method", local.compressionMethod, entry.compressionMethod],
      ["modification time", local.lastModFileTime, entry.lastModFileTime],
      ["modification date", local.lastModFileDate, entry.lastModFileDate],
    ];
    for (const [field, inLocal, inCentral] of same) {
      if (inLocal !== inCentral) {
        entryProblem(
          `the local header's ${field} (${inLocal}) differs from the central directory's (${inCentral})`,
        );
      }
    }
    if (!local.fileName.equals(entry.fileNameRaw)) {
      entryProblem(`the local header names it "${local.fileName.toString("latin1")}"`);
    }
    if (!isZip64 && !local.extraField.equals(entry.extraFieldRaw)) {
      entryProblem("the local header's extra field differs from the central directory's");
    }
    let end = local.fileDataStart + entry.compressedSize;
    if (entry.generalPurposeBitFlag & FLAG_DATA_DESCRIPTOR) {
      if (local.crc32 !== 0 || local.compressedSize !== 0 || local.uncompressedSize !== 0) {
        entryProblem("its local header gives sizes or a CRC although a data descriptor follows the data");
      }
      end = checkDataDescriptor(buffer, end, entry, entryProblem);
    } else {
      const sizes: [string, number, number][] = [
        ["CRC-32", local.crc32, entry.crc32],
        ["compressed size", local.compressedSize, entry.compressedSize],
        ["size", local.uncompressedSize, entry.uncompressedSize],
      ];
      for (const [field, inLocal, inCentral] of sizes) {
        if (inLocal !== inCentral && !isZip64) {
          entryProblem(
            `the local header's ${field} (${inLocal}) differs from the central directory's (${inCentral})`,
          );
        }
      }
    }
    expected = end;
    checkWrittenValues(entry, (message) => unlikeWriter.push({ where: `zip entry ${where}`, message }));
  }
  if (isZip64) return;

  // The end of central directory record: offsets and counts must describe what was read.
  const centralSize = entries.reduce(
    (n, e) => n + CENTRAL_HEADER + e.fileNameRaw.length + e.extraFieldRaw.length + e.fileCommentRaw.length,
    0,
  );
  const end = {
    disk: buffer.readUInt16LE(endAt + 4),
    centralDisk: buffer.readUInt16LE(endAt + 6),
    entriesOnDisk: buffer.readUInt16LE(endAt + 8),
    entries: buffer.readUInt16LE(endAt + 10),
    centralSize: buffer.readUInt32LE(endAt + 12),
    centralOffset: buffer.readUInt32LE(endAt + 16),
  };
  if (end.disk !== 0 || end.centralDisk !== 0) zip("the end record names another disk");
  if (end.entriesOnDisk !== entries.length || end.entries !== entries.length) {
    zip(
      `the end record counts ${end.entriesOnDisk}/${end.entries} entries; the directory holds ${entries.length}`,
    );
  }
  if (end.centralOffset !== expected) {
    zip(`the central directory starts at byte ${end.centralOffset}, but the last entry ends at ${expected}`);
  }
  if (end.centralSize !== centralSize || end.centralOffset + end.centralSize !== endAt) {
    zip(
      `the end record gives a central directory of ${end.centralSize} bytes; its entries take ${centralSize} and end at ${endAt}`,
    );
  }
  // yauzl does not expose each central record's disk number: read it where the record lies.
  let at = end.centralOffset;
  for (const entry of entries) {
    if (at + CENTRAL_HEADER <= buffer.length && buffer.readUInt16LE(at + 34) !== 0) {
      problems.push({
        where: `zip entry ${entry.fileName}`,
        message: "its central record names another disk",
      });
    }
    at +=
      CENTRAL_HEADER + entry.fileNameRaw.length + entry.extraFieldRaw.length + entry.fileCommentRaw.length;
  }
}

/** The descriptor after the data (optional signature, CRC-32, sizes) must repeat the central directory. */
function checkDataDescriptor(
  buffer: Buffer,
  at: number,
  entry: yauzl.Entry,
  entryProblem: (message: string) => void,
): number {
  if (at + 12 > buffer.length) {
    entryProblem("its data descriptor is missing");
    return at;
  }
  const signed = buffer.readUInt32LE(at) === DATA_DESCRIPTOR_SIGNATURE;
  const fields = signed ? at + 4 : at;
  const crc = buffer.readUInt32LE(fields);
  const compressed = buffer.readUInt32LE(fields + 4);
  const size = buffer.readUInt32LE(fields + 8);
  if (crc !== entry.crc32 || compressed !== entry.compressedSize || size !== entry.uncompressedSize) {
    entryProblem("its data descriptor differs from the central directory");
  }
  return fields + 12;
}

/** Fields nothing else in the zip repeats, held to what Palimpsest's writer puts there. */
function checkWrittenValues(entry: yauzl.Entry, entryProblem: (message: string) => void): void {
  if (entry.compressionMethod !== 0) entryProblem("is compressed; Palimpsest stores every entry");
  if (entry.versionMadeBy !== MADE_BY_YAZL) {
    entryProblem(`says it was made by ${entry.versionMadeBy.toString(16)}, not as Palimpsest writes entries`);
  }
  if (entry.externalFileAttributes !== (ZIP_ENTRY_MODE << 16) >>> 0 || entry.internalFileAttributes !== 0) {
    entryProblem("its file attributes are not the ones Palimpsest writes");
  }
  if (entry.fileCommentRaw.length > 0 || entry.extraFieldRaw.length > 0) {
    entryProblem("has a comment or extra field, which Palimpsest never writes");
  }
}

function readStream(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", reject);
    stream.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))));
  });
}
