/**
 * One Rollout: its heading, phase and images, the actions, then its sections in the order the app
 * lists them (each section is a component of the Rollout's detail, see app.ts).
 */
import type { ComponentType } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { Actions } from './actions.js';
import { Icon, State } from './icons.js';
import { keyText, type Detail, type HistoryEntry } from './types.js';

/** A part of the Rollout view; it draws nothing (null) when the Rollout has none of it. */
export type Section = ComponentType<{ detail: Detail }>;

export function RolloutView({
  detail,
  sections,
  back,
  refresh,
}: {
  detail: Detail;
  sections: Section[];
  back: () => void;
  refresh: () => void;
}) {
  const [notice, setNotice] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  const { summary } = detail;
  const name = keyText(summary.key);
  // Opening a Rollout moves the keyboard focus to it, as following a link would.
  useEffect(() => heading.current?.focus(), [name]);
  return html`<article class="rollout">
    <button class="link" onClick=${back}>← All rollouts</button>
    <h2 ref=${heading} tabindex="-1">${name} <${State} state=${summary.phase} /></h2>
    ${summary.message ? html`<p class="message">${summary.message}</p>` : ''}
    <p>
      Revision ${summary.revision}: stable <code>${summary.stableImage ?? '—'}</code>${
        summary.canaryImage ? html`, canary <code>${summary.canaryImage}</code>` : ''
      }
    </p>
    <${LastError} error=${detail.lastError} />
    <${Actions} detail=${detail} done=${(message: string) => (setNotice(message), refresh())} />
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
    ${sections.map((Part) => html`<${Part} detail=${detail} />`)}
  </article>`;
}

/** The last pass's error, if any: a Rollout's or a fleet's. */
export function LastError({ error }: { error: Detail['lastError'] }) {
  return error
    ? html`<p class="error" role="alert">
        <${Icon} name="warning" />${` Last error (${error.count}×, ${error.lastAt}): ${error.message}`}
      </p>`
    : null;
}

export function Steps({ detail }: { detail: Detail }) {
  const { summary } = detail;
  const current = (index: number) => index === summary.step && summary.phase !== 'Healthy';
  return html`<h3>Steps</h3>
    <ol class="steps">
      ${detail.steps.map((step, index) =>
        current(index)
          ? html`<li class="current" aria-current="step">
              <span class="marker" aria-hidden="true">► </span>${`${step} (current)`}
            </li>`
          : html`<li>${step}</li>`,
      )}
    </ol>`;
}

function WeightBar({ stable, canary, label }: { stable: number; canary: number; label: string }) {
  return html`<div class="route" data-route=${label}>
    <span class="route-name">${label}</span>
    <div class="bar" role="img" aria-label=${`${label}: stable ${stable}, canary ${canary}`}>
      <div class=${`stable w${stable}`}></div>
      <div class=${`canary w${canary}`}></div>
    </div>
    <span class="weights">stable ${stable} / canary ${canary}</span>
  </div>`;
}

export function Traffic({ detail }: { detail: Detail }) {
  return html`<h3>Traffic</h3>
    ${
      'unavailable' in detail.live
        ? html`<p>${detail.live.unavailable}</p>`
        : detail.live.map(
            (vs) =>
              html`<section class="virtualservice" data-vs=${vs.ref}>
                <h4>${vs.ref}</h4>
                ${vs.routes.map(
                  (route) =>
                    html`<${WeightBar}
                      label=${`${route.section} ${route.name ?? route.index}`}
                      stable=${route.stable}
                      canary=${route.canary}
                    />`,
                )}
                ${
                  vs.managedRoutes?.length
                    ? html`<p>Managed routes: ${vs.managedRoutes.map((r) => r.name).join(', ')}</p>`
                    : ''
                }
              </section>`,
          )
    }`;
}

/** Newest first; a fleet's view shows its own history with it too. */
export function History({ detail }: { detail: { history: HistoryEntry[] } }) {
  return html`<h3>History</h3>
    <ol class="timeline">
      ${[...detail.history]
        .reverse()
        .map(
          (entry) =>
            html`<li><time>${entry.at}</time> <span class="kind">${entry.kind}</span> ${entry.message}</li>`,
        )}
    </ol>`;
}
