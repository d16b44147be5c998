/**
 * Classifies IP addresses: only globally routable unicast addresses are public. Everything else
 * (loopback, private, link-local incl. cloud metadata, CGNAT, unique-local, multicast, reserved,
 * documentation, and IPv6 forms that embed an IPv4 address) is refused.
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";

const nonPublicV4 = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  nonPublicV4.addSubnet(net, prefix, "ipv4");
}

const nonPublicV6 = new BlockList();
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["100::", 64],
  ["2001::", 23],
  ["2001:db8::", 32],
  ["2002::", 16],
  ["3fff::", 20],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const) {
  nonPublicV6.addSubnet(net, prefix, "ipv6");
}
const globalUnicastV6 = new BlockList();
globalUnicastV6.addSubnet("2000::", 3, "ipv6");

/**
 * Whether `address` (an IP literal as a resolver returns it, IPv6 optionally in brackets) is a
 * globally routable unicast address. Anything that is not a well-formed literal is not public; nor
 * is an address with a zone id (`fe80::1%eth0`), which only means something on one link.
 */
export function isPublicAddress(address: string): boolean {
  if (address.includes("%")) return false;
  const bare = address.replace(/^\[|\]$/g, "");
  if (isIPv4(bare)) return !nonPublicV4.check(bare, "ipv4");
  if (isIPv6(bare)) {
    // Only 2000::/3 is global unicast. IPv4-mapped (::ffff:0:0/96), IPv4-compatible and NAT64
    // (64:ff9b::/96) forms lie outside it, so they are refused whatever IPv4 address they embed.
    return globalUnicastV6.check(bare, "ipv6") && !nonPublicV6.check(bare, "ipv6");
  }
  return false;
}
