/** Dependencies given as they are, or as a function called on first use and then kept. */
export function once<T extends object>(deps: T | (() => T)): () => T {
  if (typeof deps !== 'function') return () => deps;
  let built: T | undefined;
  return () => (built ??= (deps as () => T)());
}
