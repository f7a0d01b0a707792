/** Reads YAML text with one or several documents into plain objects, failing with the document and line. */
import { parseAllDocuments } from 'yaml';

export type DocumentsResult = { ok: true; documents: unknown[] } | { ok: false; errors: string[] };

export function parseYamlDocuments(text: string, source: string): DocumentsResult {
  const errors: string[] = [];
  const documents: unknown[] = [];
  parseAllDocuments(text).forEach((document, index) => {
    for (const error of document.errors) {
      const line = error.linePos?.[0]?.line;
      errors.push(
        `${source}: document ${index + 1}${line ? `, line ${line}` : ''}: ${error.message.split('\n')[0]}`,
      );
    }
    const value: unknown = document.toJS();
    if (value !== null && value !== undefined) documents.push(value);
  });
  return errors.length ? { ok: false, errors } : { ok: true, documents };
}

export function kindOf(document: unknown): string | undefined {
  if (typeof document !== 'object' || document === null) return undefined;
  const kind = (document as { kind?: unknown }).kind;
  return typeof kind === 'string' ? kind : undefined;
}
