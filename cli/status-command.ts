import { apiClientFromEnv, withApi } from "./api-client.ts";
import { type Command, UsageError } from "./commands.ts";

/** `palimpsest status <captureId>`: the capture as the API reports it. */
export const statusCommand: Command = {
  name: "status",
  summary: "show a capture (status, outcome, artifact links) as JSON",
  usage: [
    "usage: palimpsest status <captureId>",
    "",
    "Prints GET /v1/captures/<captureId> as indented JSON: status, times, version, edit, the",
    "failure reason, and presigned artifact links. PALIMPSEST_API and PALIMPSEST_API_KEY as for capture.",
  ].join("\n"),
  async run(args, io) {
    const [captureId, ...extra] = args;
    if (captureId === undefined || captureId.startsWith("--") || extra.length > 0) {
      throw new UsageError("status needs exactly one capture id (see palimpsest status --help)");
    }
    const api = apiClientFromEnv();
    return withApi("status", io, async () => {
      io.out(JSON.stringify(await api.get(`/v1/captures/${encodeURIComponent(captureId)}`), null, 2));
      return 0;
    });
  },
};
