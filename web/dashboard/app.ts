/**
 * The dashboard page: the list of Rollouts and one Rollout, live from the server's event stream.
 * States are words beside icons (colour only repeats them); every action is a button behind a
 * confirmation, usable from the keyboard.
 */
import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { Analysis } from './analysis.js';
import { Icon } from './icons.js';
import { List } from './list.js';
import { History, RolloutView, Steps, Traffic, type Section } from './rollout.js';
import type { Detail, Key, Summary } from './types.js';

/**
 * The Rollout view's sections, top to bottom. Another view of a Rollout (e.g. waves x clusters)
 * is one more component of `{ detail }` in this list, drawing null when the Rollout has none.
 */
const SECTIONS: Section[] = [Steps, Traffic, Analysis, History];

const keyParams = (key: Key) => new URLSearchParams({ ...key }).toString();

const CONNECTION = {
  connecting: html`<${Icon} name="circle" /> Connecting…`,
  live: html`<${Icon} name="dot" /> Live`,
  lost: html`<${Icon} name="cross" /> Connection lost: reconnecting…`,
};

function App() {
  const [items, setItems] = useState<Summary[]>([]);
  const [selected, setSelected] = useState<Key | undefined>();
  const [left, setLeft] = useState<Key | undefined>();
  const [detail, setDetail] = useState<Detail | undefined>();
  const [connection, setConnection] = useState<keyof typeof CONNECTION>('connecting');
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

  const back = () => {
    setLeft(selected);
    setSelected(undefined);
    setDetail(undefined);
  };
  return html`<header>
      <h1>serverless-rollouts</h1>
      <p class=${`connection ${connection}`} role="status">${CONNECTION[connection]}</p>
    </header>
    ${problem ? html`<p class="error" role="alert"><${Icon} name="warning" /> ${problem}</p>` : ''}
    ${
      selected && detail
        ? html`<${RolloutView} detail=${detail} sections=${SECTIONS} back=${back} refresh=${loadDetail} />`
        : html`<${List} items=${items} open=${setSelected} returnTo=${left} />`
    }`;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
