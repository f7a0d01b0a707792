/** API paths of the resources this project reads and writes. */

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

export const VIRTUAL_SERVICES: ResourceType = {
  group: 'networking.istio.io',
  version: 'v1beta1',
  plural: 'virtualservices',
  namespaced: true,
};
export const DEPLOYMENTS: ResourceType = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  namespaced: true,
};

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'Node',
  'PriorityClass',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
]);

export function resourcePath(
  type: ResourceType,
  namespace: string | undefined,
  name?: string,
  subresource?: string,
): string {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  const scope = type.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? 'default')}` : '';
  const item = name ? `/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}` : '';
  return `${base}${scope}/${type.plural}${item}`;
}

/** For applying manifests: the kinds the examples and tests use pluralise regularly (a consonant and -y become -ies). */
export function resourceTypeOf(apiVersion: string, kind: string): ResourceType {
  const [group, version] = apiVersion.includes('/')
    ? (apiVersion.split('/') as [string, string])
    : ['', apiVersion];
  return {
    group,
    version,
    plural: kind.toLowerCase().replace(/([^aeiou])y$/, '$1ie') + 's',
    namespaced: !CLUSTER_SCOPED.has(kind),
  };
}
