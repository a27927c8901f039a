/**
 * The client's address: the socket peer, unless `trustProxy` says which
 * proxies may speak for it through the one header they write (`proxyHeader`,
 * default X-Forwarded-For). Only that header is read: a proxy that appends to
 * X-Forwarded-For passes a client's own `Forwarded` through untouched, so
 * reading whichever is present would let the client choose its address.
 * Default: no header is believed, so a client cannot forge its address.
 */
import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { ProxyHeader, TrustProxy } from '../config/types';

/** `::ffff:10.0.0.1` → `10.0.0.1`, so IPv4 peers compare and read as IPv4. */
function normalize(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** One hop of a Forwarded (`for=`) or X-Forwarded-For header, without quotes, brackets or port. */
function cleanHop(hop: string): string {
  let h = hop.trim();
  if (h.startsWith('"') && h.endsWith('"')) h = h.slice(1, -1);
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  // IPv4 with port; an IPv6 address has more than one colon and no brackets means no port.
  const colon = h.indexOf(':');
  if (colon > 0 && colon === h.lastIndexOf(':')) h = h.slice(0, colon);
  return normalize(h);
}

/** The hops the proxies recorded in `header`, client first. */
function forwardedHops(req: IncomingMessage, header: ProxyHeader): string[] {
  if (header === 'forwarded') {
    const forwarded = req.headers.forwarded;
    const hops: string[] = [];
    for (const element of typeof forwarded === 'string' ? forwarded.split(',') : []) {
      for (const pair of element.split(';')) {
        const p = pair.trim();
        if (p.length > 4 && p.slice(0, 4).toLowerCase() === 'for=') hops.push(cleanHop(p.slice(4)));
      }
    }
    return hops;
  }
  const xff = req.headers['x-forwarded-for'];
  const text = Array.isArray(xff) ? xff.join(',') : xff;
  return text ? text.split(',').map(cleanHop).filter((h) => h !== '') : [];
}

/** Resolves client addresses under one trustProxy setting, built once at start. */
export class ClientAddress {
  private readonly hops: number;
  private readonly trusted: BlockList | null;
  private readonly header: ProxyHeader;

  constructor(trustProxy: TrustProxy, header: ProxyHeader = 'x-forwarded-for') {
    this.header = header;
    this.hops = typeof trustProxy === 'number' ? trustProxy : 0;
    this.trusted = Array.isArray(trustProxy) ? ClientAddress.blockList(trustProxy) : null;
  }

  private static blockList(cidrs: string[]): BlockList {
    const list = new BlockList();
    for (const entry of cidrs) {
      const [address, prefix] = entry.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) list.addAddress(address, family);
      else list.addSubnet(address, Number(prefix), family);
    }
    return list;
  }

  private isTrusted(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.trusted!.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }

  /** The address the request is attributed to. */
  resolve(req: IncomingMessage): string | null {
    const peer = req.socket.remoteAddress;
    if (peer === undefined) return null;
    const socketAddress = normalize(peer);
    if (this.hops === 0 && this.trusted === null) return socketAddress;
    const hops = forwardedHops(req, this.header);
    if (hops.length === 0) return socketAddress;
    if (this.trusted === null) {
      // Trust the nearest N proxies: the socket peer is hop 1, the last header entry hop 2, …
      const index = hops.length - this.hops;
      const chosen = hops[Math.max(index, 0)];
      return isIP(chosen) ? chosen : socketAddress;
    }
    // Walk back from the socket while the address is a trusted proxy.
    let current = socketAddress;
    for (let i = hops.length - 1; i >= 0 && this.isTrusted(current); i--) {
      if (!isIP(hops[i])) break;
      current = hops[i];
    }
    return current;
  }
}
