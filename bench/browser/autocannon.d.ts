// The part of autocannon's API bench/browser uses (the package ships no types).
declare module 'autocannon' {
  interface Options { url: string; method?: string; connections?: number; duration?: number; overallRate?: number; body?: string; headers?: Record<string, string> }
  interface Result { '2xx': number; non2xx: number }
  export default function autocannon(options: Options): Promise<Result>;
}
