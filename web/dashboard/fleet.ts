/**
 * One fleet: its phase, image and wave, then the waves x clusters table (each member's phase, step,
 * canary weight and where it is in the fleet's revision, in words beside icons), each member a
 * button to its Rollout view. Read-only: the fleet's commands stay with `rollouts promote|abort|retry`.
 */
import { useEffect, useRef } from 'preact/hooks';
import { html } from 'htm/preact';
import { Icon, State } from './icons.js';
import { History, LastError } from './rollout.js';
import { fleetText, type FleetDetail, type FleetMember, type Key } from './types.js';

/** A member's place in the fleet's revision, as words (the engine's names are camel case). */
const MEMBER_WORDS: Record<FleetMember['state'], string> = {
  idle: 'idle',
  pending: 'pending',
  inFlight: 'in flight',
  complete: 'complete',
  failed: 'failed',
  reverting: 'reverting',
  reverted: 'reverted',
};

const MEMBER_ICONS = {
  idle: 'circle',
  pending: 'circle',
  inFlight: 'play',
  complete: 'check',
  failed: 'cross',
  reverting: 'play',
  reverted: 'check',
} as const;

export function waveWords(summary: FleetDetail['summary']): string {
  return summary.wave
    ? `wave ${summary.wave.index + 1}/${summary.waves} ${summary.wave.name}`
    : `${summary.waves}/${summary.waves} waves done`;
}

export function FleetView({
  detail,
  back,
  open,
}: {
  detail: FleetDetail;
  back: () => void;
  open: (key: Key) => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  const { summary } = detail;
  const name = fleetText(summary);
  useEffect(() => heading.current?.focus(), [name]);
  return html`<article class="fleet">
    <button class="link" onClick=${back}>← All rollouts</button>
    <h2 ref=${heading} tabindex="-1">Fleet ${name} <${State} state=${summary.phase} /></h2>
    ${summary.message ? html`<p class="message">${summary.message}</p>` : ''}
    <p>
      ${summary.clusters.length} clusters in ${summary.waves} waves; image
      <code>${summary.image ?? '—'}</code>
      ${summary.revision ? ` (revision ${summary.revision})` : ''};
      ${waveWords(summary)}${summary.bakeUntil ? `, baking until ${summary.bakeUntil}` : ''}
    </p>
    <${LastError} error=${detail.lastError} />
    <h3>Waves</h3>
    <table class="list waves">
      <thead>
        <tr>
          <th>Wave</th>
          <th>Cluster</th>
          <th>Phase</th>
          <th>Step</th>
          <th>Canary</th>
          <th>Image</th>
          <th>In the fleet</th>
        </tr>
      </thead>
      ${detail.waves.map(
        (wave) =>
          html`<tbody data-wave=${wave.name} aria-current=${wave.current ? 'step' : undefined}>
            ${wave.members.map(
              (member, index) =>
                html`<tr data-member=${member.cluster}>
                  ${
                    index === 0
                      ? html`<th scope="rowgroup" rowspan=${wave.members.length}>
                          ${wave.current ? html`<span aria-hidden="true">► </span>` : ''}${wave.name}${
                            wave.current ? ' (in flight)' : ''
                          }
                        </th>`
                      : ''
                  }
                  <td>
                    ${
                      member.phase
                        ? html`<button
                            class="link"
                            onClick=${() => open({ cluster: member.cluster, namespace: summary.namespace, name: summary.name })}
                          >
                            ${member.cluster}
                          </button>`
                        : member.cluster
                    }
                  </td>
                  <td>${member.phase ? html`<${State} state=${member.phase} />` : 'not registered'}</td>
                  <td class="step">${member.phase ? `${member.step}/${member.steps}` : ''}</td>
                  <td class="canary-weight">${member.phase ? `${member.weight}%` : ''}</td>
                  <td>${member.image ?? ''}</td>
                  <td class="member-state" data-member-state=${member.state}>
                    <${Icon} name=${MEMBER_ICONS[member.state]} /> ${MEMBER_WORDS[member.state]}
                  </td>
                </tr>`,
            )}
          </tbody>`,
      )}
    </table>
    <${History} detail=${detail} />
  </article>`;
}
