/**
 * The list: every Rollout of every cluster and namespace, one row each, then each fleet, one row
 * each (its members are in the fleet's view).
 */
import { useEffect } from 'preact/hooks';
import { html } from 'htm/preact';
import { State } from './icons.js';
import { waveWords } from './fleet.js';
import { fleetText, keyText, type FleetKey, type Key, type Listing } from './types.js';

export function List({
  items,
  open,
  openFleet,
  returnTo,
}: {
  items: Listing;
  open: (key: Key) => void;
  openFleet: (key: FleetKey) => void;
  /** The row just left (`tr[data-…]`): its button takes the focus back, so the keyboard stays where it was. */
  returnTo?: string | undefined;
}) {
  useEffect(() => {
    if (!returnTo) return;
    (document.querySelector(`${returnTo} button`) as HTMLButtonElement | null)?.focus();
  }, [returnTo]);
  if (items.rollouts.length === 0 && items.fleets.length === 0)
    return html`<p>No rollouts. Apply one with <code>rollouts apply -f</code>.</p>`;
  return html`<table class="list">
    <thead>
      <tr>
        <th>Rollout</th>
        <th>Cluster</th>
        <th>Namespace</th>
        <th>Phase</th>
        <th>Step</th>
        <th>Canary</th>
        <th>Images</th>
      </tr>
    </thead>
    <tbody>
      ${items.rollouts.map(
        (item) =>
          html`<tr key=${keyText(item.key)} data-rollout=${keyText(item.key)}>
            <td><button class="link" onClick=${() => open(item.key)}>${item.key.name}</button></td>
            <td>${item.key.cluster}</td>
            <td>${item.key.namespace}</td>
            <td><${State} state=${item.phase} /></td>
            <td class="step">${Math.min(item.step + 1, item.steps)}/${item.steps}</td>
            <td class="canary-weight">${item.weight}%</td>
            <td>
              ${item.stableImage ?? ''}${item.canaryImage ? html` → <strong>${item.canaryImage}</strong>` : ''}
            </td>
          </tr>`,
      )}
      ${items.fleets.map(
        (fleet) =>
          html`<tr key=${`fleet ${fleetText(fleet)}`} data-fleet=${fleetText(fleet)} class="fleet-row">
            <td>
              <button
                class="link"
                onClick=${() => openFleet({ namespace: fleet.namespace, name: fleet.name })}
              >
                ${fleet.name}
              </button>
              <span class="tag"> (fleet)</span>
            </td>
            <td>${fleet.clusters.length} clusters</td>
            <td>${fleet.namespace}</td>
            <td><${State} state=${fleet.phase} /></td>
            <td class="step">${waveWords(fleet)}</td>
            <td></td>
            <td>${fleet.image ?? ''}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}
