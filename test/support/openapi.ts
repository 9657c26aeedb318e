import { OpenAPIV3, type OpenAPIV3_1 } from 'openapi-types';

// The OpenAPI document as the tests read it: its operations one by one, and the statuses each declares.

export type OpenApiDocument = OpenAPIV3_1.Document;

/** One operation of the document, where it is. */
export interface DocumentedOperation {
  /** Upper case, as a request names it. */
  method: string;
  /** The document's path, with `{param}`. */
  path: string;
  operation: OpenAPIV3_1.OperationObject;
}

/** Every operation the document describes. */
export function operationsOf(document: OpenApiDocument): DocumentedOperation[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.values(OpenAPIV3.HttpMethods).flatMap((method) => {
      const operation = item?.[method];
      return operation ? [{ method: method.toUpperCase(), path, operation }] : [];
    }),
  );
}

/** A route as fastify names it (`/v1/sessions/:id`), as the document does (`/v1/sessions/{id}`). */
export const documentPath = (routeUrl: string) => routeUrl.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** `METHOD /path`: how an operation is named in the tests' messages and maps. */
export const operationKey = (method: string, path: string) => `${method} ${path}`;

/** The statuses each operation declares, by `operationKey`. */
export function declaredStatuses(document: OpenApiDocument): Map<string, number[]> {
  return new Map(
    operationsOf(document).map(({ method, path, operation }) => [
      operationKey(method, path),
      Object.keys(operation.responses ?? {})
        .map(Number)
        .sort((a, b) => a - b),
    ]),
  );
}
