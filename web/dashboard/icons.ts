/**
 * Icons drawn as inline SVG, so they look the same whatever fonts the viewer has (a glyph such as
 * `॥` is a blank box without a Devanagari font). Each state has its own shape, filled or outlined,
 * and always stands beside its word: colour and shape only repeat what the word says.
 */
import { html } from 'htm/preact';

type Shape = { fill?: string; stroke?: string };

const SHAPES = {
  check: { stroke: 'M3 8.5l3.2 3.2L13 4.5' },
  cross: { stroke: 'M4 4l8 8M12 4l-8 8' },
  pause: { fill: 'M3.5 3h3v10h-3zM9.5 3h3v10h-3z' },
  play: { fill: 'M4 2.5l9.5 5.5L4 13.5z' },
  forward: { fill: 'M1.5 3l6.5 5-6.5 5zM8 3l6.5 5L8 13z' },
  warning: { stroke: 'M8 2L15 14H1zM8 6.5v3.5M8 11.5v1' },
  circle: { stroke: 'M8 3a5 5 0 1 0 0.01 0' },
  half: { stroke: 'M8 3a5 5 0 1 0 0.01 0', fill: 'M8 3a5 5 0 0 1 0 10z' },
  dot: { fill: 'M8 4a4 4 0 1 0 0.01 0' },
} satisfies Record<string, Shape>;

export type IconName = keyof typeof SHAPES;

/** A Rollout's phase, an analysis run's or metric's phase, a measurement's phase: its icon. */
const STATE_ICONS: Record<string, IconName> = {
  Healthy: 'check',
  Successful: 'check',
  Progressing: 'play',
  Running: 'play',
  Promoting: 'forward',
  Paused: 'pause',
  Pending: 'circle',
  Degraded: 'cross',
  Failed: 'cross',
  Inconclusive: 'half',
  InvalidSpec: 'warning',
  Error: 'warning',
};

export function Icon({ name }: { name: IconName }) {
  const shape: Shape = SHAPES[name];
  return html`<svg
    class="icon"
    data-icon=${name}
    viewBox="0 0 16 16"
    width="1em"
    height="1em"
    aria-hidden="true"
    focusable="false"
  >
    ${shape.fill ? html`<path d=${shape.fill} fill="currentColor" />` : ''}
    ${shape.stroke ? html`<path d=${shape.stroke} fill="none" stroke="currentColor" stroke-width="2" />` : ''}
  </svg>`;
}

/** A state as its icon and its word (the word is what a screen reader reads). */
export function State({ state }: { state: string }) {
  return html`<span class=${`state state-${state}`} data-state=${state}
    ><${Icon} name=${STATE_ICONS[state] ?? 'dot'} /> ${state}</span
  >`;
}
