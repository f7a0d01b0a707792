/**
 * What the step runner may do in a cluster, as Kubernetes objects to apply there: a Role and
 * RoleBinding in each namespace the cluster serves (RBAC: which objects), and one
 * ValidatingAdmissionPolicy with its binding (which fields). Generated from the same registry the
 * runner reads, so the cluster and the runner agree on the namespaces.
 */
import { stringify } from 'yaml';
import type { ClusterScope } from './clusters.js';

export const RUNNER_GROUP = 'serverless-rollouts:runners';
export const RUNNER_ACCESS_NAME = 'serverless-rollouts-runner';
export const POLICY_NAME = 'serverless-rollouts-runner-changes';
/**
 * On a VirtualService, set by its owner (the runner cannot change metadata): the comma-separated
 * names of the http routes the runner may add and remove (a Rollout's managedRoutes).
 */
export const MANAGED_ROUTES_ANNOTATION = 'serverless-rollouts.io/managed-routes';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

const LABELS = { 'app.kubernetes.io/managed-by': 'serverless-rollouts' };

/**
 * Exactly the requests lib/adapters/kube makes: GET and JSON-Patch VirtualServices, GET and
 * JSON-Patch Deployments (image), merge-patch deployments/scale (replicas). `watch` on Deployments
 * is for the Deployment watch that waits for availability instead of polling.
 */
export const RUNNER_RULES = [
  { apiGroups: ['networking.istio.io'], resources: ['virtualservices'], verbs: ['get', 'patch'] },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch', 'watch'] },
  { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['patch'] },
];

/** A Role and a RoleBinding for the runners' group in every namespace the cluster serves. */
export function runnerRbac(cluster: ClusterScope): KubeObject[] {
  return cluster.namespaces.flatMap((namespace): KubeObject[] => {
    const metadata = { name: RUNNER_ACCESS_NAME, namespace, labels: LABELS };
    return [
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules: RUNNER_RULES },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: RUNNER_ACCESS_NAME },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: RUNNER_GROUP }],
      },
    ];
  });
}

const quoted = (keys: readonly string[]) => `[${keys.map((key) => `'${key}'`).join(', ')}]`;

/** `a` and `b` (maps) hold the same keys with equal values, leaving out `ignored`. */
function sameExcept(a: string, b: string, ignored: readonly string[]): string {
  const skip = quoted(ignored);
  return `(${a}.all(k, k in ${skip} || (k in ${b} && ${a}[k] == ${b}[k])) && ${b}.all(k, k in ${skip} || k in ${a}))`;
}

/** Fields the API server itself changes on every write. */
const SERVER_SET_METADATA = ['managedFields', 'resourceVersion', 'generation'];

const ROUTE_SECTIONS = ['http', 'tls', 'tcp'] as const;
const routesVariable = (side: 'object' | 'oldObject', section: string) =>
  `${side === 'object' ? 'new' : 'old'}${section[0]?.toUpperCase()}${section.slice(1)}Routes`;

/** One VirtualService section's routes, leaving out those the runner manages itself. */
function routesOf(side: 'object' | 'oldObject', section: string) {
  return {
    name: routesVariable(side, section),
    expression: `(has(${side}.spec.${section}) ? ${side}.spec.${section} : []).filter(r, !('name' in r && r.name in variables.managedRoutes))`,
  };
}

/**
 * `host` is a destination of one of the routes the runner does not manage: as its owner wrote it,
 * or, for a short name (Argo Rollouts writes the canary Service's name), the owner's fully
 * qualified name of that Service in the VirtualService's own namespace, where Istio resolves it.
 */
const ownHost = (host: string) => {
  const inNamespace = `${host} + '.' + object.metadata.namespace`;
  const sameService = (owned: string) =>
    `(${owned} == ${host} || (!${host}.contains('.') && (${owned} == ${inNamespace} || ${owned} == ${inNamespace} + '.svc' || ${owned}.startsWith(${inNamespace} + '.svc.'))))`;
  return `variables.oldHttpRoutes.exists(o, has(o.route) && o.route.exists(od, ${sameService('od.destination.host')}))`;
};

/**
 * A managed route (header or mirror, as Argo Rollouts writes them) holds only a name, matches,
 * destinations and a mirror, and sends or mirrors traffic only to hosts the owner's routes already use.
 */
const MANAGED_ROUTE_SHAPE = [
  `variables.newManagedRoutes.all(r, r.all(k, k in ['name', 'match', 'route', 'mirror', 'mirrorPercentage'])`,
  `(!has(r.route) || r.route.all(d, d.all(k, k in ['destination', 'weight']) && ${ownHost('d.destination.host')}))`,
  `(!has(r.mirror) || ${ownHost('r.mirror.host')}))`,
].join(' && ');

/** A section's routes are the same list, position by position, but for their destinations' weights. */
function sameRoutesExceptWeights(section: string): string {
  const now = `variables.${routesVariable('object', section)}`;
  const before = `variables.${routesVariable('oldObject', section)}`;
  return `(${now}.size() == ${before}.size() && ${now}.all(i, r, ${sameExcept('r', `${before}[i]`, ['route'])} && ('route' in r) == ('route' in ${before}[i]) && (!('route' in r) || (r.route.size() == ${before}[i].route.size() && r.route.all(j, d, ${sameExcept('d', `${before}[i].route[j]`, ['weight'])})))))`;
}

/**
 * Requests from the runners' group may only UPDATE: a Deployment's container images and replicas
 * (the object or its scale subresource) and VirtualService route weights. Anything else (another
 * resource, a create or delete, a label, an annotation, a service account, a container, a route,
 * a destination host) is denied by the API server, whatever RBAC allows.
 */
export function runnerAdmissionPolicy(): KubeObject[] {
  const validations = [
    {
      expression: "request.operation == 'UPDATE'",
      messageExpression: `'the rollouts runner may only update objects, not ' + request.operation + ' ' + request.resource.resource`,
      reason: 'Forbidden',
    },
    {
      expression: 'variables.deployment || variables.scale || variables.virtualService',
      messageExpression: `'the rollouts runner may only change Deployments (and their scale) and VirtualServices, not ' + request.resource.resource + (variables.subresource == '' ? '' : '/' + variables.subresource)`,
      reason: 'Forbidden',
    },
    {
      expression: `!(variables.update && (variables.deployment || variables.virtualService)) || (${sameExcept('object', 'oldObject', ['metadata', 'spec', 'status'])} && ${sameExcept('object.metadata', 'oldObject.metadata', SERVER_SET_METADATA)})`,
      message: 'the rollouts runner may not change metadata (labels, annotations, owners, finalizers)',
      reason: 'Forbidden',
    },
    {
      expression: `!(variables.update && variables.deployment) || (${[
        sameExcept('object.spec', 'oldObject.spec', ['replicas', 'template']),
        sameExcept('object.spec.template', 'oldObject.spec.template', ['spec']),
        sameExcept('object.spec.template.spec', 'oldObject.spec.template.spec', ['containers']),
        'object.spec.template.spec.containers.size() == oldObject.spec.template.spec.containers.size()',
        `object.spec.template.spec.containers.all(i, c, ${sameExcept('c', 'oldObject.spec.template.spec.containers[i]', ['image'])})`,
      ].join(' && ')})`,
      message:
        "the rollouts runner may change only a Deployment's replicas and its containers' images (not service accounts, containers, volumes, selectors, ...)",
      reason: 'Forbidden',
    },
    {
      expression: `!(variables.update && variables.virtualService) || (${[
        sameExcept('object.spec', 'oldObject.spec', ROUTE_SECTIONS),
        ...ROUTE_SECTIONS.map(sameRoutesExceptWeights),
      ].join(' && ')})`,
      message: `the rollouts runner may change only the weights of a VirtualService's route destinations (not hosts, subsets, matches or routes), and add or remove only the http routes named in its ${MANAGED_ROUTES_ANNOTATION} annotation`,
      reason: 'Forbidden',
    },
    {
      expression: `!(variables.update && variables.virtualService) || (${MANAGED_ROUTE_SHAPE})`,
      message:
        'a route the rollouts runner manages may only match requests and route or mirror them to hosts the VirtualService already routes to',
      reason: 'Forbidden',
    },
  ];
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: POLICY_NAME, labels: LABELS },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['*'], resources: ['*/*'] }],
        },
        matchConditions: [
          { name: 'runners-only', expression: `'${RUNNER_GROUP}' in request.userInfo.groups` },
        ],
        variables: [
          { name: 'update', expression: "request.operation == 'UPDATE'" },
          // Absent, not empty, on requests for the object itself.
          { name: 'subresource', expression: "has(request.subResource) ? request.subResource : ''" },
          {
            name: 'deployment',
            expression:
              "request.resource.group == 'apps' && request.resource.resource == 'deployments' && variables.subresource == ''",
          },
          {
            // A Scale carries nothing but replicas: the API server applies only spec.replicas from it.
            name: 'scale',
            expression:
              "request.resource.group == 'apps' && request.resource.resource == 'deployments' && variables.subresource == 'scale'",
          },
          {
            name: 'virtualService',
            expression:
              "request.resource.group == 'networking.istio.io' && request.resource.resource == 'virtualservices' && variables.subresource == ''",
          },
          {
            // The http routes the runner adds and removes (header and mirror routes), by name: only
            // those the VirtualService's owner lists; every other route stays as it is.
            name: 'managedRoutes',
            expression: `has(oldObject.metadata.annotations) && '${MANAGED_ROUTES_ANNOTATION}' in oldObject.metadata.annotations ? oldObject.metadata.annotations['${MANAGED_ROUTES_ANNOTATION}'].split(',').map(n, n.trim()) : []`,
          },
          {
            name: 'newManagedRoutes',
            expression: `(has(object.spec.http) ? object.spec.http : []).filter(r, 'name' in r && r.name in variables.managedRoutes)`,
          },
          ...ROUTE_SECTIONS.flatMap((section) => [
            routesOf('object', section),
            routesOf('oldObject', section),
          ]),
        ],
        validations,
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: POLICY_NAME, labels: LABELS },
      spec: { policyName: POLICY_NAME, validationActions: ['Deny'] },
    },
  ];
}

/** Multi-document YAML for `kubectl apply -f -`, each document after `header` (comment lines). */
export function renderManifests(objects: readonly KubeObject[], header: string): string {
  const comment = header
    .trim()
    .split('\n')
    .map((line) => `# ${line}`.trimEnd())
    .join('\n');
  return `${comment}\n${objects.map((object) => stringify(object, { lineWidth: 0, singleQuote: true })).join('---\n')}`;
}

/** Everything the runner needs in one cluster, as `rollouts rbac --cluster NAME` prints it. */
export function runnerAccessManifests(cluster: ClusterScope): string {
  return renderManifests(
    [...runnerRbac(cluster), ...runnerAdmissionPolicy()],
    `What the serverless-rollouts step runner may do in cluster '${cluster.name}' (namespaces ${cluster.namespaces.join(', ')}).
Generated by \`rollouts rbac --cluster ${cluster.name}\` from the cluster registry: regenerate, do not edit.
Apply as a cluster admin: kubectl apply -f -
RBAC: a Role and RoleBinding per namespace for the group ${RUNNER_GROUP}.
Admission: ${POLICY_NAME} lets that group change only Deployment images and replicas and
VirtualService route weights (Kubernetes 1.33 or later: it uses two-variable comprehensions), and add
or remove the header and mirror routes a VirtualService's owner names in its annotation
${MANAGED_ROUTES_ANNOTATION} (comma-separated), to hosts its other routes already use.`,
  );
}
