/**
 * The few statistics and process readings the benchmarks and stress runs share.
 * @module
 */

/** Nearest-rank percentile of `xs` (0 < p ≤ 100); NaN for no samples. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The median (nearest-rank 50th percentile). */
export function median(xs: number[]): number {
  return percentile(xs, 50);
}

/**
 * The text of a /proc file (Linux), or null when it cannot be read. Read through `cat`: Deno asks for
 * --allow-all to read /proc directly, while running `cat` needs only --allow-run.
 */
export async function procText(path: string): Promise<string | null> {
  try {
    const out = await new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}

/** VmRSS of process `pid` in MiB, or 0 when it is gone or this is not Linux (`procText`). */
export async function rssMiB(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+) kB/.exec(await procText(`/proc/${pid}/status`) ?? "");
  return m ? Number(m[1]) / 1024 : 0;
}

/**
 * CPU time process `pid` has used (user + system, all threads) in ms, or with `thread` only that thread's
 * (a process's main thread has the process's id); NaN when it is gone or this is not Linux (`procText`).
 */
export async function cpuMs(pid: number, thread?: number): Promise<number> {
  const text = await procText(
    thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`,
  );
  if (text === null) return NaN;
  // Fields after the command name (which may hold spaces) start at state; utime and stime are 14th and 15th.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Linux's USER_HZ: /proc reports CPU time in these ticks per second. */
const CLOCK_TICKS = 100;

/**
 * The 1-minute load average, or null when it cannot be read (not Linux; `procText`).
 * Figures are only comparable at similar loads: print it beside them.
 */
export async function loadAverage(): Promise<number | null> {
  const text = await procText("/proc/loadavg");
  return text === null ? null : Number(text.split(" ")[0]);
}

/**
 * Runs one benchmark file on its own (`deno run ... bench/NAME.ts [--quick] [--json]`): `--quick` for a short
 * run; `--json` prints `{ name: figures }`, else one line a figure, names aligned.
 */
export async function runAlone(
  name: string,
  bench: (o: { quick: boolean }) => Promise<Record<string, unknown>>,
): Promise<void> {
  const figures = await bench({ quick: Deno.args.includes("--quick") });
  if (Deno.args.includes("--json")) return console.log(JSON.stringify({ [name]: figures }, null, 2));
  const width = Math.max(28, ...Object.keys(figures).map((k) => k.length + 1));
  for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(width)} ${v}`);
}
