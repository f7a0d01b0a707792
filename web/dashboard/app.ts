/**
 * The dashboard page: the list of Rollouts and one Rollout, live from the server's event stream.
 * Phases are words and icons (not only colour); actions are buttons behind a confirmation dialog.
 */
import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { html } from 'htm/preact';

interface Key {
  cluster: string;
  namespace: string;
  name: string;
}
interface Summary {
  key: Key;
  phase: string;
  icon: string;
  message?: string;
  step: number;
  steps: number;
  weight: number;
  revision: number;
  stableImage?: string;
  canaryImage?: string;
}
interface Route {
  section: string;
  index: number;
  name?: string;
  stable: number;
  canary: number;
}
interface HistoryEntry {
  at: string;
  kind: string;
  message: string;
}
interface Detail {
  summary: Summary;
  rollout: {
    canary: { steps: Record<string, unknown>[] };
    workload: { container?: string };
  };
  status: { analysis?: { step?: unknown; background?: unknown } };
  lastError?: { message: string; count: number; lastAt: string };
  live:
    | { ref: string; routes: Route[]; managedRoutes?: { name: string; kind?: string }[] }[]
    | { unavailable: string };
  history: HistoryEntry[];
}

const TOKEN = document.querySelector<HTMLMetaElement>('meta[name="dashboard-token"]')?.content ?? '';

const keyParams = (key: Key) => new URLSearchParams({ ...key }).toString();
const keyText = (key: Key) => `${key.cluster}/${key.namespace}/${key.name}`;

/** The phase as `get` prints it: its icon (from the server, as `get` draws it) and its word. */
function Phase({ phase, icon }: { phase: string; icon: string }) {
  return html`<span class=${`phase phase-${phase}`}><span aria-hidden="true">${icon}</span> ${phase}</span>`;
}

function stepText(step: Record<string, unknown>): string {
  const [kind, value] = Object.entries(step)[0] ?? ['?', ''];
  return `${kind}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`;
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

function List({ items, open }: { items: Summary[]; open: (key: Key) => void }) {
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
          html`<tr data-rollout=${keyText(item.key)}>
            <td><button class="link" onClick=${() => open(item.key)}>${item.key.name}</button></td>
            <td>${item.key.cluster}</td>
            <td>${item.key.namespace}</td>
            <td><${Phase} phase=${item.phase} icon=${item.icon} /></td>
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

interface Pending {
  action: string;
  label: string;
  assignment?: string;
}

function Actions({ detail, done }: { detail: Detail; done: (message: string) => void }) {
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
        >New image for ${container}
        <input value=${image} onInput=${(e: Event) => setImage((e.target as HTMLInputElement).value)}
      /></label>
      <button type="submit">Set image</button>
    </form>
    <dialog ref=${dialog} onClose=${() => setPending(undefined)}>
      <p>${pending?.label} ${keyText(detail.summary.key)}?</p>
      <button class="confirm" onClick=${confirm}>Confirm</button>
      <button onClick=${() => dialog.current?.close()}>Cancel</button>
    </dialog>
  </section>`;
}

function RolloutView({ detail, back, refresh }: { detail: Detail; back: () => void; refresh: () => void }) {
  const [notice, setNotice] = useState('');
  const { summary, rollout } = detail;
  return html`<article class="rollout">
    <button class="link" onClick=${back}>← All rollouts</button>
    <h2>${keyText(summary.key)} <${Phase} phase=${summary.phase} icon=${summary.icon} /></h2>
    ${summary.message ? html`<p class="message">${summary.message}</p>` : ''}
    <p>
      Revision ${summary.revision}: stable
      <code>${summary.stableImage ?? '—'}</code
      >${summary.canaryImage ? html`, canary <code>${summary.canaryImage}</code>` : ''}
    </p>
    ${detail.lastError ? html`<p class="error" role="alert">⚠ Last error (${detail.lastError.count}×, ${detail.lastError.lastAt}): ${detail.lastError.message}</p>` : ''}
    <${Actions} detail=${detail} done=${(message: string) => (setNotice(message), refresh())} />
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
    <h3>Steps</h3>
    <ol class="steps">
      ${rollout.canary.steps.map(
        (step, index) =>
          html`<li class=${index === summary.step && summary.phase !== 'Healthy' ? 'current' : ''}>
            ${index === summary.step && summary.phase !== 'Healthy' ? html`<span aria-label="current step">► </span>` : ''}${stepText(step)}
          </li>`,
      )}
    </ol>
    <h3>Traffic</h3>
    ${
      'unavailable' in detail.live
        ? html`<p>${detail.live.unavailable}</p>`
        : detail.live.map(
            (vs) =>
              html`<section class="virtualservice" data-vs=${vs.ref}>
                <h4>${vs.ref}</h4>
                ${vs.routes.map((route) => html`<${WeightBar} label=${`${route.section} ${route.name ?? route.index}`} stable=${route.stable} canary=${route.canary} />`)}
                ${vs.managedRoutes?.length ? html`<p>Managed routes: ${vs.managedRoutes.map((r) => r.name).join(', ')}</p>` : ''}
              </section>`,
          )
    }
    ${
      detail.status.analysis
        ? html`<h3>Analysis</h3>
            <pre>${JSON.stringify(detail.status.analysis, null, 1)}</pre>`
        : ''
    }
    <h3>History</h3>
    <ol class="timeline">
      ${[...detail.history].reverse().map((entry) => html`<li><time>${entry.at}</time> <span class="kind">${entry.kind}</span> ${entry.message}</li>`)}
    </ol>
  </article>`;
}

function App() {
  const [items, setItems] = useState<Summary[]>([]);
  const [selected, setSelected] = useState<Key | undefined>();
  const [detail, setDetail] = useState<Detail | undefined>();
  const [connection, setConnection] = useState<'connecting' | 'live' | 'lost'>('connecting');
  const [problem, setProblem] = useState('');
  const selectedRef = useRef<Key | undefined>(undefined);
  selectedRef.current = selected;

  const loadDetail = useCallback(async () => {
    const key = selectedRef.current;
    if (!key) return setDetail(undefined);
    const response = await fetch(`/api/rollout?${keyParams(key)}`);
    if (response.ok) setDetail((await response.json()) as Detail);
    else setProblem(((await response.json()) as { error: string }).error);
  }, []);

  useEffect(() => {
    const source = new EventSource('/api/events');
    source.onopen = () => setConnection('live');
    source.onerror = () => setConnection('lost');
    source.addEventListener('rollouts', (event) => {
      setItems(JSON.parse((event as MessageEvent<string>).data) as Summary[]);
      setProblem('');
      void loadDetail();
    });
    source.addEventListener('problem', (event) =>
      setProblem((JSON.parse((event as MessageEvent<string>).data) as { message: string }).message),
    );
    return () => source.close();
  }, [loadDetail]);

  useEffect(() => void loadDetail(), [selected, loadDetail]);

  return html`<header>
      <h1>serverless-rollouts</h1>
      <p class=${`connection ${connection}`} role="status">
        ${connection === 'live' ? '● Live' : connection === 'lost' ? '✖ Connection lost: reconnecting…' : '◌ Connecting…'}
      </p>
    </header>
    ${problem ? html`<p class="error" role="alert">⚠ ${problem}</p>` : ''}
    ${
      selected && detail
        ? html`<${RolloutView}
            detail=${detail}
            back=${() => (setSelected(undefined), setDetail(undefined))}
            refresh=${loadDetail}
          />`
        : html`<${List} items=${items} open=${setSelected} />`
    }`;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
