/**
 * A real Prometheus server on loopback for tests and local mode, from tools/prometheus. Tests
 * backfill series with promtool (OpenMetrics in, TSDB blocks out) before the server starts, then
 * query at fixed instants, so every answer is deterministic; local mode scrapes the mesh simulator.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, httpStatus } from './ports.js';
import { ProcessGroup, waitFor } from './processes.js';
import { REPO_ROOT } from './testcluster.js';

export interface PrometheusBinaries {
  prometheus: string;
  promtool: string;
}

export interface ScrapeTarget {
  job: string;
  /** host:port serving /metrics. */
  target: string;
  intervalSeconds?: number;
}

export interface LocalPrometheus {
  /** http://127.0.0.1:<port>, the `address` of a prometheus metric. */
  url: string;
  logFile: string;
  stop(): Promise<void>;
}

export interface LocalPrometheusOptions {
  logFile: string;
  /** OpenMetrics text (ending in `# EOF`) written into the TSDB before the server starts. */
  backfill?: string;
  scrape?: ScrapeTarget[];
  binaries?: PrometheusBinaries;
}

/**
 * Prometheus and promtool: the build from tools/prometheus/build.sh when it is cached (Prometheus
 * 3.x), else the ones on PATH (Debian's `prometheus` package, which .ci/run installs).
 */
export function findPrometheus(): PrometheusBinaries {
  const cached = spawnSync('bash', [join(REPO_ROOT, 'tools/prometheus/build.sh'), '--cached'], {
    encoding: 'utf8',
  });
  if (cached.status === 0) {
    const dir = cached.stdout.trim().split('\n').at(-1) as string;
    return { prometheus: join(dir, 'prometheus'), promtool: join(dir, 'promtool') };
  }
  const onPath = (name: string) =>
    spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  const [prometheus, promtool] = [onPath('prometheus'), onPath('promtool')];
  if (prometheus && promtool) return { prometheus, promtool };
  throw new Error(
    "no Prometheus found: build it with `bash tools/prometheus/build.sh` (Go) or install Debian's `prometheus` package (apt-get install prometheus)",
  );
}

export async function startPrometheus(options: LocalPrometheusOptions): Promise<LocalPrometheus> {
  const binaries = options.binaries ?? findPrometheus();
  const dir = mkdtempSync(join(tmpdir(), 'serverless-rollouts-prometheus-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  mkdirSync(dirname(options.logFile), { recursive: true });
  writeFileSync(options.logFile, '');
  const group = new ProcessGroup(options.logFile);
  try {
    if (options.backfill !== undefined) backfill(binaries.promtool, options.backfill, dir, dataDir);
    const configFile = join(dir, 'prometheus.yml');
    writeFileSync(configFile, configYaml(options.scrape ?? []));
    const port = await freePort();
    group.start('prometheus', binaries.prometheus, [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Backfilled samples sit at fixed instants, possibly long ago: never expire them.
      '--storage.tsdb.retention.time=100y',
    ]);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      'Prometheus /-/ready',
      async () => ((await httpStatus(`${url}/-/ready`)) === 200 ? true : undefined),
      {
        timeoutMs: 60_000,
        intervalMs: 200,
        group,
      },
    );
    return {
      url,
      logFile: options.logFile,
      stop: async () => {
        await group.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await group.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function backfill(promtool: string, openMetrics: string, dir: string, dataDir: string): void {
  const input = join(dir, 'backfill.om');
  writeFileSync(input, openMetrics.endsWith('# EOF\n') ? openMetrics : `${openMetrics.trimEnd()}\n# EOF\n`);
  const run = spawnSync(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', input, dataDir], {
    encoding: 'utf8',
  });
  if (run.status !== 0)
    throw new Error(
      `promtool could not backfill the series (exit ${run.status}): ${run.stderr || run.stdout}`,
    );
}

function configYaml(scrape: ScrapeTarget[]): string {
  return stringify({
    global: { scrape_interval: '15s', evaluation_interval: '15s' },
    scrape_configs: scrape.map((target) => ({
      job_name: target.job,
      scrape_interval: `${target.intervalSeconds ?? 1}s`,
      scrape_timeout: `${target.intervalSeconds ?? 1}s`,
      static_configs: [{ targets: [target.target] }],
    })),
  });
}

export interface Series {
  name: string;
  /** OpenMetrics type of the family; counters' samples are named `<family>_total`. */
  type: 'gauge' | 'counter';
  labels?: Record<string, string>;
  /** [Unix seconds, value] pairs, oldest first. */
  samples: [number, number][];
}

/** OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`. */
export function openMetrics(series: Series[]): string {
  const lines: string[] = [];
  const families = new Map<string, Series[]>();
  for (const one of series) families.set(one.name, [...(families.get(one.name) ?? []), one]);
  for (const [name, members] of families) {
    const type = members[0]?.type ?? 'gauge';
    const family = type === 'counter' ? name.replace(/_total$/, '') : name;
    lines.push(`# TYPE ${family} ${type}`);
    for (const member of members) {
      const labels = Object.entries(member.labels ?? {})
        .map(([key, value]) => `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
        .join(',');
      const sample = type === 'counter' ? `${family}_total` : family;
      for (const [time, value] of member.samples)
        lines.push(`${sample}${labels ? `{${labels}}` : ''} ${formatValue(value)} ${time}`);
    }
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
