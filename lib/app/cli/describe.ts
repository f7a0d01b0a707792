/** `rollouts get`: a Rollout as `kubectl argo rollouts get rollout` shows it, as text. Pure. */
import type { RouteWeights } from '../../core/istio/weights.js';
import { formatDuration } from '../../core/model/duration.js';
import { formatRef } from '../../core/model/references.js';
import type { Step } from '../../core/model/rollout.js';
import { isRouteStep, routeOf } from '../../core/model/route-step-kinds.js';
import type { ManagedRouteInPlace } from '../../core/istio/managed-routes.js';
import type { HistoryEntry, RecordedError, StoredRollout } from '../../adapters/dynamodb/types.js';
import type { AnalysisRun } from '../../core/analysis/run.js';
import type { AnalysisStatus } from '../../core/engine/types.js';

export const PHASE_ICONS: Record<string, string> = {
  Healthy: '✔',
  Progressing: '◌',
  Paused: '॥',
  Promoting: '◌',
  Degraded: '✖',
  InvalidSpec: '⚠',
};

export type LiveWeights =
  { ref: string; routes: RouteWeights[]; managedRoutes?: ManagedRouteInPlace[] }[] | { unavailable: string };

export function describeStep(step: Step): string {
  if ('setWeight' in step) return `setWeight: ${step.setWeight}`;
  if ('analysis' in step)
    return `analysis: {templates: ${step.analysis.templates.map((ref) => ref.templateName).join(', ')}}`;
  if (isRouteStep(step)) {
    const action = 'setHeaderRoute' in step ? 'setHeaderRoute' : 'setMirrorRoute';
    const route = routeOf(step);
    const percentage = 'setMirrorRoute' in step ? step.setMirrorRoute.percentage : undefined;
    return route.match
      ? `${action}: ${route.name} (${route.match.length} match${route.match.length === 1 ? '' : 'es'}${percentage === undefined ? '' : `, ${percentage}%`})`
      : `${action}: ${route.name} (remove)`;
  }
  return step.pause.durationSeconds === undefined
    ? 'pause: {}'
    : `pause: {duration: ${formatDuration(step.pause.durationSeconds)}}`;
}

/** An error recorded once however often it repeated: how often, and when last. */
export function describeError(error: RecordedError): string {
  return error.count === 1
    ? `${error.message} (at ${error.lastAt})`
    : `${error.message} (${error.count} times since ${error.firstAt}, last at ${error.lastAt})`;
}

export function describeRollout(stored: StoredRollout, live: LiveWeights): string {
  const { rollout, status } = stored;
  const steps = rollout.canary.steps;
  const active = status.phase !== 'Healthy';
  const lines = [
    `Name:            ${rollout.name}`,
    `Namespace:       ${rollout.namespace}`,
    `Cluster:         ${rollout.cluster}`,
    `Status:          ${PHASE_ICONS[status.phase] ?? ''} ${status.phase}`,
    ...(status.message ? [`Message:         ${status.message}`] : []),
    `Strategy:        Canary`,
    `  Step:          ${Math.min(status.stepIndex, steps.length)}/${steps.length}`,
    `  SetWeight:     ${status.weight}`,
    `Images:          ${status.stableImage ?? '(not observed yet)'} (stable)`,
    ...(status.canaryImage ? [`                 ${status.canaryImage} (canary)`] : []),
    `Revision:        ${status.revision}`,
    ...(stored.lastError ? [`Last error:      ${describeError(stored.lastError)}`] : []),
    '',
    'Steps:',
    ...steps.map((step, index) => {
      const mark = index < status.stepIndex ? '✔' : index === status.stepIndex && active ? '►' : ' ';
      return `  ${mark} ${index + 1}. ${describeStep(step)}`;
    }),
    ...describeAnalysis(status.analysis),
    '',
    'VirtualServices:',
  ];
  if ('unavailable' in live) {
    lines.push(`  (${live.unavailable}; desired: stable ${100 - status.weight}, canary ${status.weight})`);
    for (const ref of rollout.canary.virtualServices) lines.push(`  ${formatRef(ref)}`);
  } else {
    for (const vs of live) {
      lines.push(`  ${vs.ref}`);
      for (const route of vs.routes) {
        const label = route.name
          ? `${route.section} '${route.name}'`
          : `${route.section} spec.${route.section}[${route.index}]`;
        lines.push(
          `    ${label.padEnd(28)} stable ${String(route.stable).padStart(3)}  canary ${String(route.canary).padStart(3)}`,
        );
      }
      for (const managed of vs.managedRoutes ?? [])
        lines.push(
          `    ${`managed '${managed.name}'`.padEnd(28)} ${managed.kind} route at spec.http[${managed.index}]`,
        );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** How many of each metric's last measurements `get` shows. */
const SHOWN_MEASUREMENTS = 3;

/** The step and background runs: phase and message, and per metric its counts and last measurements. */
function describeAnalysis(analysis: AnalysisStatus | undefined): string[] {
  const runs = [analysis?.step, analysis?.background].filter((run): run is AnalysisRun => run !== undefined);
  if (runs.length === 0) return [];
  const lines = ['', 'Analysis:'];
  for (const run of runs) {
    const label = run.kind === 'Step' ? `Step-based (step ${(run.stepIndex ?? 0) + 1})` : 'Background';
    lines.push(`  ${label} ${run.id}: ${run.phase}${run.message ? `: ${run.message}` : ''}`);
    for (const result of run.results) {
      const counts = `successful ${result.successful}, failed ${result.failed}, inconclusive ${result.inconclusive}, error ${result.error}`;
      lines.push(
        `    ${result.name}: ${result.phase} (${counts})${result.message ? `: ${result.message}` : ''}`,
      );
      for (const measurement of result.measurements.slice(-SHOWN_MEASUREMENTS)) {
        const value = measurement.value === undefined ? '' : ` ${measurement.value}`;
        const message = measurement.message ? `: ${measurement.message}` : '';
        lines.push(`      #${measurement.index} ${measurement.at} ${measurement.phase}${value}${message}`);
      }
    }
  }
  return lines;
}

export function describeList(items: StoredRollout[]): string {
  const rows = [['CLUSTER', 'NAMESPACE', 'NAME', 'STATUS', 'STEP', 'WEIGHT', 'IMAGE']];
  for (const { rollout, status } of items) {
    rows.push([
      rollout.cluster,
      rollout.namespace,
      rollout.name,
      status.phase,
      `${Math.min(status.stepIndex, rollout.canary.steps.length)}/${rollout.canary.steps.length}`,
      String(status.weight),
      status.canaryImage ?? status.stableImage ?? '',
    ]);
  }
  return formatTable(rows);
}

/** Rows as columns padded to their widest cell; the first row is the header. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return `${rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

export function describeHistory(entries: HistoryEntry[]): string {
  if (entries.length === 0) return 'no history\n';
  return `${entries.map((entry) => `${entry.at}  ${entry.kind.padEnd(10)} ${entry.message}`).join('\n')}\n`;
}

/**
 * What `get --watch` writes for a new frame: nothing when it did not change. On a terminal it
 * redraws in place (cursor home, each line cleared to its end, the rest of the screen cleared), so
 * nothing flickers; elsewhere (a CI log) each changed frame follows the last, separated by a blank line.
 */
export function watchFrame(
  previous: string | undefined,
  next: string,
  terminal: boolean,
): string | undefined {
  if (next === previous) return undefined;
  if (!terminal) return previous === undefined ? next : `\n${next}`;
  const lines = next.replace(/\n$/, '').split('\n');
  return `\x1b[H${lines.map((line) => `${line}\x1b[K`).join('\n')}\n\x1b[J`;
}

/**
 * Whether `get --watch --until-done` is finished, and with which exit code: Healthy 0, Degraded or
 * InvalidSpec 1. A queued command (a `set image` the runner has not taken yet) means the phase read
 * is about to change, so nothing is finished while one waits.
 */
export function finishedWatch(
  stored: {
    key: StoredRollout['key'];
    status: Pick<StoredRollout['status'], 'phase' | 'stableImage' | 'message'>;
  },
  pendingCommands: number,
): { code: number; message: string } | undefined {
  if (pendingCommands > 0) return undefined;
  const { status, key } = stored;
  const name = `${key.namespace}/${key.name}`;
  if (status.phase === 'Healthy')
    return { code: 0, message: `rollout ${name} is Healthy on ${status.stableImage ?? 'its image'}` };
  if (status.phase === 'Degraded' || status.phase === 'InvalidSpec')
    return { code: 1, message: `rollout ${name} is ${status.phase}: ${status.message ?? 'no message'}` };
  return undefined;
}
