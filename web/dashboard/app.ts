/**
 * The dashboard page: the list of Rollouts and fleets, one fleet (waves x clusters) and one Rollout, live from the server's event stream.
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
import { FleetView } from './fleet.js';
import {
  fleetText,
  keyText,
  type Detail,
  type FleetDetail,
  type FleetKey,
  type Key,
  type Listing,
} from './types.js';

/**
 * The Rollout view's sections, top to bottom. Another view of a Rollout is one more component of
 * `{ detail }` in this list, drawing null when the Rollout has none. (A fleet has its own view.)
 */
const SECTIONS: Section[] = [Steps, Traffic, Analysis, History];

const keyParams = (key: Key | FleetKey) => new URLSearchParams({ ...key }).toString();

const CONNECTION = {
  connecting: html`<${Icon} name="circle" /> Connecting…`,
  live: html`<${Icon} name="dot" /> Live`,
  lost: html`<${Icon} name="cross" /> Connection lost: reconnecting…`,
};

/** What is open: the list, a fleet, or a Rollout (from the list, or from its fleet's view). */
type View =
  { kind: 'list' } | { kind: 'fleet'; key: FleetKey } | { kind: 'rollout'; key: Key; fleet?: FleetKey };

/** The list row of what was left, for the focus to return to. */
const rowOf = (view: View) =>
  view.kind === 'fleet'
    ? `tr[data-fleet="${CSS.escape(fleetText(view.key))}"]`
    : view.kind === 'rollout' && !view.fleet
      ? `tr[data-rollout="${CSS.escape(keyText(view.key))}"]`
      : undefined;

function App() {
  const [items, setItems] = useState<Listing>({ rollouts: [], fleets: [] });
  const [view, setView] = useState<View>({ kind: 'list' });
  const [left, setLeft] = useState<string | undefined>();
  const [detail, setDetail] = useState<Detail | undefined>();
  const [fleet, setFleet] = useState<FleetDetail | undefined>();
  const [connection, setConnection] = useState<keyof typeof CONNECTION>('connecting');
  const [problem, setProblem] = useState('');
  const viewRef = useRef<View>(view);
  viewRef.current = view;

  const loadDetail = useCallback(async () => {
    const current = viewRef.current;
    if (current.kind === 'list') return (setDetail(undefined), setFleet(undefined));
    const response = await fetch(
      current.kind === 'fleet'
        ? `/api/fleet?${keyParams(current.key)}`
        : `/api/rollout?${keyParams(current.key)}`,
    );
    if (!response.ok) return setProblem(((await response.json()) as { error: string }).error);
    if (current.kind === 'fleet') setFleet((await response.json()) as FleetDetail);
    else setDetail((await response.json()) as Detail);
  }, []);

  useEffect(() => {
    const source = new EventSource('/api/events');
    source.onopen = () => setConnection('live');
    source.onerror = () => setConnection('lost');
    source.addEventListener('rollouts', (event) => {
      setItems(JSON.parse((event as MessageEvent<string>).data) as Listing);
      setProblem('');
      void loadDetail();
    });
    source.addEventListener('problem', (event) =>
      setProblem((JSON.parse((event as MessageEvent<string>).data) as { message: string }).message),
    );
    return () => source.close();
  }, [loadDetail]);

  useEffect(() => void loadDetail(), [view, loadDetail]);

  const go = (next: View) => {
    setDetail(undefined);
    setFleet(undefined);
    setView(next);
  };
  const back = () => {
    if (view.kind === 'rollout' && view.fleet) return go({ kind: 'fleet', key: view.fleet });
    setLeft(rowOf(view));
    go({ kind: 'list' });
  };
  const shown =
    view.kind === 'rollout' && detail
      ? html`<${RolloutView} detail=${detail} sections=${SECTIONS} back=${back} refresh=${loadDetail} />`
      : view.kind === 'fleet' && fleet
        ? html`<${FleetView}
            detail=${fleet}
            back=${back}
            open=${(key: Key) => go({ kind: 'rollout', key, fleet: view.key })}
          />`
        : html`<${List}
            items=${items}
            open=${(key: Key) => go({ kind: 'rollout', key })}
            openFleet=${(key: FleetKey) => go({ kind: 'fleet', key })}
            returnTo=${left}
          />`;
  return html`<header>
      <h1>serverless-rollouts</h1>
      <p class=${`connection ${connection}`} role="status">${CONNECTION[connection]}</p>
    </header>
    ${problem ? html`<p class="error" role="alert"><${Icon} name="warning" /> ${problem}</p>` : ''} ${shown}`;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
