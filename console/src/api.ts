import type { z } from 'zod';
import { ProblemJson, type ProblemDetails } from '../../src/contract/index.js';

/** An answer the ledger refused, with its problem (RFC 9457). */
export class ApiProblem extends Error {
  constructor(readonly problem: ProblemDetails) {
    super(problem.detail);
  }
  get status() {
    return this.problem.status;
  }
}

/**
 * One call of the ledger's API from the console's own origin: the console's cookie goes with
 * it (reads only); a bearer token only where the caller passes one (the login). The answer is
 * checked against the contract's schema.
 */
export async function callApi<Schema extends z.ZodType>(
  path: string,
  answer: Schema,
  { method = 'GET', token, signal }: { method?: 'GET' | 'POST' | 'DELETE'; token?: string; signal?: AbortSignal } = {},
): Promise<z.infer<Schema>> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    signal,
  });
  const text = await response.text();
  const body: unknown = text === '' ? null : JSON.parse(text);
  if (!response.ok) {
    const problem = ProblemJson.safeParse(body);
    throw new ApiProblem(problem.success ? problem.data : { type: 'about:blank', title: response.statusText, status: response.status, detail: text.slice(0, 200) });
  }
  return answer.parse(body);
}

/** A query string of the values given, without the empty ones. */
export function queryOf(values: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}
