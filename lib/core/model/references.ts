/**
 * VirtualService references as Argo Rollouts writes them: `name` or `name.namespace`, where the last
 * segment is the namespace and a trailing cluster domain is ignored.
 */
export interface ObjectRef {
  namespace: string;
  name: string;
}

const CLUSTER_DOMAIN_SUFFIXES = ['.svc.cluster.local', '.cluster.local'];

export function parseVirtualServiceRef(reference: string, defaultNamespace: string): ObjectRef {
  let text = reference;
  for (const suffix of CLUSTER_DOMAIN_SUFFIXES) {
    if (text.endsWith(suffix)) {
      text = text.slice(0, -suffix.length);
      break;
    }
  }
  const dot = text.lastIndexOf('.');
  if (dot <= 0) return { namespace: defaultNamespace, name: text };
  return { namespace: text.slice(dot + 1), name: text.slice(0, dot) };
}

export function formatRef(ref: ObjectRef): string {
  return `${ref.namespace}/${ref.name}`;
}
