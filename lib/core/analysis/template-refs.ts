/**
 * Which template a Rollout's reference names, and how templates and references read in messages:
 * what the engine needs of templates, without the schema template.ts parses them with.
 */
import type { AnalysisTemplate } from './template.js';

export function templateLabel(template: Pick<AnalysisTemplate, 'kind' | 'name' | 'namespace'>): string {
  return template.namespace
    ? `${template.kind} ${template.namespace}/${template.name}`
    : `${template.kind} ${template.name}`;
}

/** How a Rollout names a template (Argo's AnalysisTemplateRef). */
export interface TemplateRefInput {
  templateName: string;
  clusterScope: boolean;
}

/** The template a Rollout in `namespace` refers to: a ClusterAnalysisTemplate by name, or an AnalysisTemplate in its namespace. */
export function findTemplate(
  templates: readonly AnalysisTemplate[],
  ref: TemplateRefInput,
  namespace: string,
): AnalysisTemplate | undefined {
  return templates.find((candidate) =>
    ref.clusterScope
      ? candidate.kind === 'ClusterAnalysisTemplate' && candidate.name === ref.templateName
      : candidate.kind === 'AnalysisTemplate' &&
        candidate.name === ref.templateName &&
        candidate.namespace === namespace,
  );
}

export function refLabel(ref: TemplateRefInput, namespace: string): string {
  return ref.clusterScope
    ? templateLabel({ kind: 'ClusterAnalysisTemplate', name: ref.templateName })
    : templateLabel({ kind: 'AnalysisTemplate', name: ref.templateName, namespace });
}
