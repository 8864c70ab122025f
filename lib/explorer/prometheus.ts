/**
 * Prometheus' text exposition format (version 0.0.4), written: families of gauges and counters with their
 * help, type and samples. prom-client runs in Deno but is an npm package, and a node's start-up loads none
 * (tests/exports_test.ts); the format is small, and its test parses the output with an npm parser.
 * @module
 */

/** The content type of the format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** One sample: its labels (possibly none) and its value. */
export type Sample = [labels: Record<string, string>, value: number];

/** A metric family: a name, a help text, a type, and its samples. */
export interface Family {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
  name: string;
  /** One line of text; `\` and line breaks are escaped. */
  help: string;
  /** Gauge (goes up and down) or counter (only up, name ending in `_total`). */
  type: "gauge" | "counter";
  /** The samples, label names `[a-zA-Z_][a-zA-Z0-9_]*`. */
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeHelp = (s: string) => s.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
const escapeValue = (s: string) => s.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");

function number(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/**
 * The families as text. Throws on a malformed metric or label name (a bug of the caller, never data).
 * @example renderPrometheus([{ name: "up", help: "1 when up.", type: "gauge", samples: [[{}, 1]] }])
 * // "# HELP up 1 when up.\n# TYPE up gauge\nup 1\n"
 */
export function renderPrometheus(families: Family[]): string {
  let out = "";
  for (const f of families) {
    if (!NAME.test(f.name)) throw new Error(`bad metric name ${JSON.stringify(f.name)}`);
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const [labels, value] of f.samples) {
      const pairs = Object.entries(labels).map(([k, v]) => {
        if (!LABEL.test(k)) throw new Error(`bad label name ${JSON.stringify(k)}`);
        return `${k}="${escapeValue(v)}"`;
      });
      out += `${f.name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${number(value)}\n`;
    }
  }
  return out;
}
