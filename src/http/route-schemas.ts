import { ProblemJson } from '../contract/index.js';

/** The problem answers every authenticated write and read may give, for the OpenAPI document. */
export const commonProblems = { 400: ProblemJson, 401: ProblemJson, 403: ProblemJson, 404: ProblemJson, 409: ProblemJson };

/** A write takes a bearer token. */
export const writeSecurity: readonly Record<string, readonly string[]>[] = [{ bearer: [] }];
/** A read takes a bearer token, or the console's cookie (see `authentication`). */
export const readSecurity: readonly Record<string, readonly string[]>[] = [{ bearer: [] }, { console: [] }];
