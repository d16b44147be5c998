/**
 * What keeps a test's or a benchmark's capture browser on this machine: Chromium resolves no host
 * names, and its egress proxy lets 127.0.0.1 through, resolves nothing either and connects to
 * 127.0.0.1 only (a public IP literal in a page would otherwise pass the proxy's own guard).
 */
import { connect, type Socket } from "node:net";
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
