// A small, strict option parser for the `webkvm` command. Strict because a
// typo in a teaching tool's command line should stop with a clear message,
// not silently run something else.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  /** 'flag' takes no value; 'int' and 'number' are checked; 'string' is taken as is. */
  type: 'flag' | 'int' | 'number' | 'string';
  min?: number;
  max?: number;
  help: string;
  /** Shown in help, e.g. 'N'. */
  arg?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;
export type ParsedOptions = Record<string, string | number | boolean | undefined>;

export interface Parsed {
  positional: string[];
  options: ParsedOptions;
}

/** Parse `--name value`, `--name=value` and `-o value` (short forms map through `aliases`). */
export function parseArgs(argv: string[], specs: OptionSpecs, aliases: Record<string, string> = {}): Parsed {
  const positional: string[] = [];
  const options: ParsedOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      inline = eq < 0 ? undefined : a.slice(eq + 1);
    } else {
      name = aliases[a.slice(1)] ?? '';
      if (!name) throw new UsageError(`unknown option '${a}'`);
    }
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown option '--${name}'`);
    if (spec.type === 'flag') {
      if (inline !== undefined) throw new UsageError(`option '--${name}' takes no value`);
      options[name] = true;
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new UsageError(`option '--${name}' needs a value (${spec.arg ?? spec.type})`);
    options[name] = convert(name, raw, spec);
  }
  return { positional, options };
}

function convert(name: string, raw: string, spec: OptionSpec): string | number {
  if (spec.type === 'string') return raw;
  const v = Number(raw);
  const ok = raw.trim() !== '' && Number.isFinite(v) && (spec.type === 'number' || Number.isInteger(v));
  if (!ok) throw new UsageError(`option '--${name}' expects ${spec.type === 'int' ? 'a whole number' : 'a number'}, got '${raw}'`);
  if (spec.min !== undefined && v < spec.min) throw new UsageError(`option '--${name}' must be at least ${spec.min}, got ${raw}`);
  if (spec.max !== undefined && v > spec.max) throw new UsageError(`option '--${name}' must be at most ${spec.max}, got ${raw}`);
  return v;
}

/** Help text for a command's options, one per line. */
export function formatOptions(specs: OptionSpecs): string {
  return Object.entries(specs)
    .map(([n, s]) => `  --${n}${s.arg ? ' ' + s.arg : ''}`.padEnd(26) + s.help)
    .join('\n');
}
