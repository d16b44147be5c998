/**
 * What keeps a test's or a benchmark's capture browser on this machine: Chromium resolves no host
 * names, and its egress proxy lets 127.0.0.1 through, resolves nothing either and connects to
 * 127.0.0.1 only (a public IP literal in a page would otherwise pass the proxy's own guard).
 */
import { connect, type Socket } from "node:net";
import { type Browser, chromium } from "playwright-core";
import { chromiumLaunchArgs, resolveBundledChromium } from "../../shared/adapters/chromium/browser-launch.ts";
import { createEgressProxy } from "../../shared/adapters/egress/egress-proxy.ts";
import type { EgressProxy } from "../../shared/adapters/egress/types.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";

/** Chromium switch: no DNS query leaves the machine; 127.0.0.1 is a literal and needs none. */
export const NO_DNS = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";

/**
 * An egress proxy for the fixture site or any server on 127.0.0.1 (any port). Connections it was
 * asked to make elsewhere are refused and, when `refused` is given, noted there as `address:port`.
 */
export function loopbackEgress(refused?: string[]): EgressProxy {
  return createEgressProxy({
    allowedPrivateHosts: parseAllowedPrivateHosts("127.0.0.1"),
    resolveHost: async (host) => {
      throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    },
    connect: (address: string, port: number): Socket => {
      if (address !== "127.0.0.1") {
        refused?.push(`${address}:${port}`);
        throw new Error(`only 127.0.0.1 is reachable here, not ${address}`);
      }
      return connect({ host: address, port });
    },
  });
}

/**
 * A plain browser (the bundled Chromium, no DNS) to open what the archive serves as a reader
 * would; one retry, as a launch very rarely dies on start-up.
 */
export async function launchViewer(): Promise<Browser> {
  const executablePath = await resolveBundledChromium();
  const launch = () => chromium.launch({ executablePath, args: [...chromiumLaunchArgs(), NO_DNS] });
  return launch().catch(launch);
}
