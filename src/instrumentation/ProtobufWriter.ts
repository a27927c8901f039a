/**
 * A single-pass protobuf writer for OTLP spans. It produces the same bytes as
 * @opentelemetry/otlp-transformer's serializer (canonical varints, the same
 * field order) for about half the CPU: that one measures every message in a
 * first pass and then writes it, checking each string for non-ASCII characters
 * before copying it byte by byte. Here strings are copied and checked in one
 * loop, and a nested message's length is written into a reserved gap that is
 * only moved when the guess was wrong.
 */

/** A growable byte buffer with the protobuf primitives the span serializer needs. */
export class ProtobufWriter {
  buf: Buffer;
  pos = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 1024));
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** A varint; negative numbers are encoded as int64 (ten bytes), as protobuf does. */
  varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 0x7f) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
    } else {
      this.pos = pos;
      this.varint64(value);
      return;
    }
    this.pos = pos;
  }

  /** A signed 64-bit varint as protobuf encodes int64 (two's complement for negatives). */
  varint64(value: number): void {
    this.ensure(10);
    let low: number;
    let high: number;
    const abs = Math.abs(value);
    low = abs >>> 0;
    high = Math.floor(abs / 0x100000000) >>> 0;
    if (value < 0) {
      low = ~low >>> 0;
      high = ~high >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    const buf = this.buf;
    while (high > 0 || low > 0x7f) {
      buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low & 0x7f;
  }

  /** A one-byte field tag (field numbers below 16). */
  tag(field: number, wireType: number): void {
    this.ensure(1);
    this.buf[this.pos++] = (field << 3) | wireType;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.le32(value >>> 0);
  }

  fixed64(low: number, high: number): void {
    this.ensure(8);
    this.le32(low >>> 0);
    this.le32(high >>> 0);
  }

  /** Four bytes, little-endian, without Buffer#writeUInt32LE's argument checks (room is ensured by the caller). */
  private le32(v: number): void {
    const buf = this.buf;
    buf[this.pos++] = v & 0xff;
    buf[this.pos++] = (v >>> 8) & 0xff;
    buf[this.pos++] = (v >>> 16) & 0xff;
    buf[this.pos++] = v >>> 24;
  }

  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** Length-prefixed string: ASCII is copied and checked in one loop; anything else is encoded natively. */
  string(str: string): void {
    const len = str.length;
    const start = this.pos;
    if (len < 128) {
      this.ensure(len + 1);
      const buf = this.buf;
      let pos = start + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = str.charCodeAt(i);
        if (c > 127) break;
        buf[pos++] = c;
      }
      if (i === len) {
        buf[start] = len;
        this.pos = pos;
        return;
      }
    }
    const bytes = Buffer.byteLength(str, 'utf8');
    this.pos = start;
    this.varint(bytes);
    this.ensure(bytes);
    this.pos += this.buf.write(str, this.pos, 'utf8');
  }

  /** Length-prefixed bytes from a lowercase or uppercase hex string (trace and span ids). */
  hexBytes(hex: string): void {
    const n = hex.length >>> 1;
    this.ensure(n + 1);
    const buf = this.buf;
    buf[this.pos++] = n;
    for (let i = 0; i < n; i++) buf[this.pos++] = (hexValue(hex.charCodeAt(2 * i)) << 4) | hexValue(hex.charCodeAt(2 * i + 1));
  }

  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Reserves `reserve` bytes for the length of the message that follows; returns where it starts. */
  begin(reserve: number): number {
    this.ensure(reserve);
    this.pos += reserve;
    return this.pos;
  }

  /** Writes the length of the message begun at `start` into its gap, moving the message if the gap was the wrong size. */
  end(start: number, reserve: number): void {
    const length = this.pos - start;
    const size = varintSize(length);
    if (size !== reserve) {
      this.ensure(size - reserve);
      this.buf.copyWithin(start + size - reserve, start, this.pos);
      this.pos += size - reserve;
    }
    let at = start - reserve;
    let v = length;
    while (v > 0x7f) {
      this.buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[at] = v;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return c - 55;
}

/** Bytes of the varint encoding of a non-negative 32-bit length. */
export function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}
