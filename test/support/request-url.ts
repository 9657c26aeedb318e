/**
 * The URL a `fetch` was asked for, as a string: the input itself, a `URL`'s href, or a
 * `Request`'s url (which `String` would render as `[object Request]`).
 */
export const requestUrl = (input: Parameters<typeof fetch>[0]): string => (input instanceof Request ? input.url : String(input));
