/**
 * The actions: each button opens a modal confirmation (focus starts on Cancel, Escape cancels,
 * focus returns to the button), and only Confirm sends the command, the same one the CLI sends.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { keyText, type Detail } from './types.js';

const TOKEN = document.querySelector<HTMLMetaElement>('meta[name="dashboard-token"]')?.content ?? '';

interface Pending {
  action: string;
  label: string;
  assignment?: string;
}

export function Actions({ detail, done }: { detail: Detail; done: (message: string) => void }) {
  const [pending, setPending] = useState<Pending | undefined>();
  const [image, setImage] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    if (pending && dialog.current && !dialog.current.open) dialog.current.showModal();
  }, [pending]);
  const container = detail.rollout.workload.container ?? detail.summary.key.name;
  const confirm = async () => {
    const chosen = pending;
    dialog.current?.close();
    setPending(undefined);
    if (!chosen) return;
    const response = await fetch('/api/command', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Dashboard-Token': TOKEN },
      body: JSON.stringify({ key: detail.summary.key, action: chosen.action, assignment: chosen.assignment }),
    });
    const body = (await response.json()) as { message?: string; error?: string };
    done(body.message ?? body.error ?? `HTTP ${response.status}`);
  };
  const ask = (action: string, label: string, assignment?: string) => () =>
    setPending({ action, label, ...(assignment ? { assignment } : {}) });
  return html`<section class="actions" aria-label="actions">
    <button onClick=${ask('promote', 'Promote')}>Promote</button>
    <button onClick=${ask('promoteFull', 'Promote fully')}>Promote --full</button>
    <button onClick=${ask('abort', 'Abort')}>Abort</button>
    <button onClick=${ask('retry', 'Retry')}>Retry</button>
    <form
      class="set-image"
      onSubmit=${(event: Event) => {
        event.preventDefault();
        if (image) ask('setImage', `Set image ${container}=${image}`, `${container}=${image}`)();
      }}
    >
      <label
        >New image for ${container}${' '}
        <input value=${image} onInput=${(e: Event) => setImage((e.target as HTMLInputElement).value)}
      /></label>
      <button type="submit">Set image</button>
    </form>
    <dialog ref=${dialog} aria-labelledby="confirm-question" onClose=${() => setPending(undefined)}>
      <p id="confirm-question">${pending?.label} ${keyText(detail.summary.key)}?</p>
      <button autofocus onClick=${() => dialog.current?.close()}>Cancel</button>
      <button class="confirm" onClick=${confirm}>Confirm</button>
    </dialog>
  </section>`;
}
