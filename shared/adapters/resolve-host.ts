/** Host name resolution for the guards: every address of a name, as the system resolver gives them. */
import { lookup } from "node:dns/promises";
import type { ResolveHost } from "../ports.ts";

/** Every A and AAAA address, IPv4 first (what a connection then tries first). */
export const resolveHostIpv4First: ResolveHost = async (host) =>
  (await lookup(host.replace(/^\[|\]$/g, ""), { all: true, order: "ipv4first" })).map(
    (entry) => entry.address,
  );
