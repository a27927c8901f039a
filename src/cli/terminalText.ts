/**
 * Everything the CLI prints passes through here: C0 control characters (but
 * tab and line ends), DEL and C1 become visible `\u001b`-style escapes, so a
 * user name such as `mallory\x1b[8m…` stored in the trail cannot hide text,
 * move the cursor or retitle the admin's terminal (security finding 9). The
 * escape is also a valid JSON escape, so JSON output stays parseable, and
 * CSV keeps its CRLF.
 */

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|\r(?!\n)/g;

/** `text` with every control character but tab and line ends written as `\uXXXX`. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `stream` whose string writes are escaped; every other member is the stream's own. */
export function terminalSafe(stream: NodeJS.WritableStream): NodeJS.WritableStream {
  const write = (chunk: unknown, ...rest: unknown[]): boolean =>
    (stream.write as (...args: unknown[]) => boolean)(typeof chunk === 'string' ? escapeControl(chunk) : chunk, ...rest);
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === 'write') return write;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
