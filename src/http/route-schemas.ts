import { ProblemJson } from '../contract/index.js';

/** The problem answers every authenticated write and read may give, for the OpenAPI document. */
export const commonProblems = { 400: ProblemJson, 401: ProblemJson, 403: ProblemJson, 404: ProblemJson, 409: ProblemJson };
