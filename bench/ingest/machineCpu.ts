/**
 * CPU spent during a bench window, split three ways (Linux /proc; elsewhere
 * only this process is known):
 *   node      this process (process.cpuUsage),
 *   postgres  every postgres process on the host, backends included (sampled
 *             every 50 ms, so a backend that exits inside the window still
 *             counts up to its last sample),
 *   machine   every CPU of the host, all processes and the kernel (/proc/stat).
 * The bench reads them per event: on a machine whose cores are all busy,
 * throughput is capped by cores ÷ machine CPU per event.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** CPU time in µs spent in a window. */
export interface CpuSpent {
  node: number;
  postgres: number | null;
  machine: number | null;
}

const TICK_US = 10_000; // USER_HZ is 100 on Linux

function machineTicks(): number | null {
  try {
    // user nice system idle iowait irq softirq steal ...: busy = all but idle, iowait and steal.
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    return f[0]! + f[1]! + f[2]! + f[5]! + f[6]!;
  } catch {
    return null;
  }
}

/** Pids seen not to be postgres: not read again. */
const others = new Set<string>();

/** user + system ticks of every postgres process, by pid; null without /proc. */
function postgresTicks(): Map<number, number> | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc');
  } catch {
    return null;
  }
  const ticks = new Map<number, number>();
  for (const pid of pids) {
    if (pid.charCodeAt(0) > 57 || others.has(pid)) continue; // not a process, or not postgres
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) {
        others.add(pid);
        continue;
      }
      const f = stat.slice(close + 2).split(' ');
      ticks.set(Number(pid), Number(f[11]) + Number(f[12]));
    } catch {
      /* the process ended between readdir and read */
    }
  }
  return ticks;
}

/** Starts measuring; `stop()` returns the CPU spent since. */
export function cpuWindow(): { stop: () => CpuSpent } {
  const node0 = process.cpuUsage();
  const machine0 = machineTicks();
  const first = postgresTicks();
  const last = new Map(first ?? []);
  const sample = () => {
    for (const [pid, t] of postgresTicks() ?? []) last.set(pid, t);
  };
  const timer = first ? setInterval(sample, 50) : null;
  return {
    stop() {
      if (timer) clearInterval(timer);
      sample();
      const node = process.cpuUsage(node0);
      const machine1 = machineTicks();
      let pg = 0;
      for (const [pid, t] of last) pg += t - (first?.get(pid) ?? 0);
      return {
        node: node.user + node.system,
        postgres: first ? pg * TICK_US : null,
        machine: machine0 !== null && machine1 !== null ? (machine1 - machine0) * TICK_US : null,
      };
    },
  };
}
