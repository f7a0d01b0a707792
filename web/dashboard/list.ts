/** The list: every Rollout of every cluster and namespace, one row each. */
import { useEffect } from 'preact/hooks';
import { html } from 'htm/preact';
import { State } from './icons.js';
import { keyText, type Key, type Summary } from './types.js';

export function List({
  items,
  open,
  returnTo,
}: {
  items: Summary[];
  open: (key: Key) => void;
  /** The Rollout just left: its button takes the focus back, so the keyboard stays where it was. */
  returnTo?: Key | undefined;
}) {
  useEffect(() => {
    if (!returnTo) return;
    const row = document.querySelector(`tr[data-rollout="${CSS.escape(keyText(returnTo))}"] button`);
    (row as HTMLButtonElement | null)?.focus();
  }, [returnTo]);
  if (items.length === 0) return html`<p>No rollouts. Apply one with <code>rollouts apply -f</code>.</p>`;
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
      ${items.map(
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
    </tbody>
  </table>`;
}
